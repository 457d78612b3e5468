import { openingStruct, proveElements, proveLeaves, tensorRoots, toHex } from '@commons/protocol'
import { traceForward, type EngineContext, type Fault, type Recipe, type SampledPick, type Tensor } from '@commons/engine'
import type { Address } from 'viem'
import { send, type Clients } from './clients.ts'
import { inferenceDisputesAbi } from './generated/contracts.ts'
import { answerSampling, answerWindow, disputedClaim, GenerationDisputeError, isLate, readGenerationDispute, type GenerationMove } from './generationDispute.ts'

/** What a provider keeps of the model it serves, to defend its answers. */
export interface ServedState {
  engine: EngineContext
  recipe: Recipe
  /** The 3P slots (params, m, v) and step of the checkpoint whose state root the service registered. */
  slots: readonly Tensor[]
  step: number
  /** The parameters it computes with: the slots' own, or (a lying provider, in tests) others. */
  served?: readonly Tensor[]
  /** A deliberate error in one op of every forward (tests of the network's defences). */
  fault?: Fault
}

/**
 * The provider's side of a generation dispute: posts the slot roots of its checkpoint and
 * the op trace of the disputed token's window, and opens the pinpointed element, each
 * from its own computation.
 */
export class GenerationDefender {
  private readonly clients: Clients
  private readonly game: Address
  private readonly state: ServedState
  private readonly traces = new Map<bigint, Tensor[]>()

  /** The block to search events from (the deployment's). */
  private readonly fromBlock: bigint

  constructor (clients: Clients, game: Address, state: ServedState, fromBlock = 0n) {
    this.clients = clients
    this.game = game
    this.state = state
    this.fromBlock = fromBlock
  }

  private get params (): readonly Tensor[] {
    const { served, slots } = this.state
    return served ?? slots.slice(0, slots.length / 3)
  }

  /** The op outputs of its forward of `window` (and pick): what it publishes for challengers and posts roots of. */
  trace (id: bigint, window?: readonly number[], sampling?: SampledPick): Tensor[] {
    const known = this.traces.get(id)
    if (known !== undefined) return known
    if (window === undefined) throw new GenerationDisputeError(`no window known for generation dispute ${id}`)
    const outputs = traceForward(this.state.engine, this.state.recipe, this.params, window, { fault: this.state.fault, sampling }).outputs
    this.traces.set(id, outputs)
    return outputs
  }

  /** One op's output: the provider's published values (data availability). */
  output (id: bigint, op: number): Tensor {
    const outputs = this.trace(id)
    if (op < 0 || op >= outputs.length) throw new GenerationDisputeError(`the forward program has no op ${op}`)
    return outputs[op]
  }

  /**
   * Posts the checkpoint's slot roots and the op trace of `window` (the disputed token's),
   * picked as its receipt says (`answerSampling`: undefined for a greedy answer).
   */
  async postTrace (id: bigint, window: readonly number[], sampling?: SampledPick): Promise<GenerationMove> {
    const roots = tensorRoots(this.trace(id, window, sampling)).map(toHex)
    const slotRoots = tensorRoots(this.state.slots).map(toHex)
    const receipt = await send(this.clients, { address: this.game, abi: inferenceDisputesAbi, functionName: 'postTrace', args: [id, slotRoots, BigInt(this.state.step), roots] })
    return { name: 'postTrace', gas: receipt.gasUsed }
  }

  /** Reveals the leaves the challenger requested (InferenceDisputes.provideValues). */
  async provideValues (id: bigint): Promise<GenerationMove> {
    const d = await readGenerationDispute(this.clients, this.game, id)
    if (d.phaseName !== 'await-values') throw new GenerationDisputeError(`generation dispute ${id} waits for no values (phase ${d.phaseName})`)
    const first = Number(d.element)
    const receipt = await send(this.clients, {
      address: this.game,
      abi: inferenceDisputesAbi,
      functionName: 'provideValues',
      args: [id, openingStruct(proveLeaves(this.output(id, d.opIndex), first, first + d.requestedLeaves - 1))]
    })
    return { name: 'provideValues', gas: receipt.gasUsed }
  }

  /**
   * Makes whatever move dispute `id` waits for from the provider (post the trace, reveal
   * values, open the element), or ends it by timeout when the challenger is late; null
   * when it waits for nobody here. Everything it needs is read from the chain (the window,
   * and a sampled answer's seed and words, from the open's logged claim), so a restarted
   * provider defends as well as a running one. `known`: the dispute as just read, if the caller has it.
   */
  async advance (id: bigint, known?: Awaited<ReturnType<typeof readGenerationDispute>>): Promise<GenerationMove | null> {
    const d = known ?? await readGenerationDispute(this.clients, this.game, id)
    if (d.phaseName === 'resolved') return null
    if (d.phaseName === 'await-pinpoint') return await isLate(this.clients, d.deadline) ? await this.timeout(id) : null
    if (!this.traces.has(id)) {
      const claim = await disputedClaim(this.clients, this.game, id, this.fromBlock)
      this.trace(id, answerWindow(claim, claim.index, this.state.recipe.model.context), answerSampling(claim.receipt, claim.index))
    }
    // The window is known now (the trace above): postTrace reads the cached trace.
    if (d.phaseName === 'await-trace') return await this.postTrace(id, [])
    if (d.phaseName === 'await-values') return await this.provideValues(id)
    if (d.phaseName === 'await-reveal') return await this.reveal(id)
    return null
  }

  async timeout (id: bigint): Promise<GenerationMove> {
    const receipt = await send(this.clients, { address: this.game, abi: inferenceDisputesAbi, functionName: 'timeout', args: [id] })
    return { name: 'timeout', gas: receipt.gasUsed }
  }

  async reveal (id: bigint): Promise<GenerationMove> {
    const d = await readGenerationDispute(this.clients, this.game, id)
    const element = Number(d.element)
    const receipt = await send(this.clients, {
      address: this.game,
      abi: inferenceDisputesAbi,
      functionName: 'reveal',
      args: [id, openingStruct(proveElements(this.output(id, d.opIndex), element, element))]
    })
    return { name: 'reveal', gas: receipt.gasUsed }
  }
}
