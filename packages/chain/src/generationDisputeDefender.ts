import { openingStruct, proveElements, tensorRoots, toHex } from '@commons/protocol'
import { traceForward, type EngineContext, type Fault, type Recipe, type SampledPick, type Tensor } from '@commons/engine'
import type { Address } from 'viem'
import { send, type Clients } from './clients.ts'
import { inferenceDisputesAbi } from './generated/contracts.ts'
import { GenerationDisputeError, readGenerationDispute, type GenerationMove } from './generationDispute.ts'

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

  constructor (clients: Clients, game: Address, state: ServedState) {
    this.clients = clients
    this.game = game
    this.state = state
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
