import { nodeProof, openingsFor, openingStruct, opProof, opStruct, tensorRoot, tensorRoots, toHex, type Hash } from '@commons/protocol'
import { forwardInputs, traceForward, type EngineContext, type ForwardTrace, type SampledPick, type Tensor } from '@commons/engine'
import type { Address } from 'viem'
import { firstDifference } from './challenger.ts'
import { revealedValues } from './disputeData.ts'
import { firstDepartingOp, walkStep } from './valuesWalk.ts'
import { send, type Clients } from './clients.ts'
import { commonsTokenAbi, inferenceDisputesAbi } from './generated/contracts.ts'
import type { Deployment } from './deploy.ts'
import {
  answerSampling, answerWindow, disputedClaim, ForwardPrograms, GenerationDisputeError, isLate, openedGenerationDispute, postedGenerationTrace,
  readGenerationDispute, type GenerationMove, type SignedAnswer
} from './generationDispute.ts'

/**
 * The challenger's side of a generation dispute: replays an answer (greedy, or sampled
 * under its receipt's seed and parameters) on the model's
 * weights (fetched by CID and checked against the receipt's model root), opens at the
 * first token that differs, and pinpoints the first element where the provider's trace
 * departs from its own replay of that token's forward program.
 */
export class GenerationChallenger {
  readonly clients: Clients
  readonly deployment: Deployment
  private readonly game: Address
  private readonly ctx: EngineContext
  private readonly programs: ForwardPrograms
  /** The model's parameter slots, as the registered model root commits to them. */
  private readonly weights: readonly Tensor[]
  /** Per dispute: its replay of the token's forward and that replay's op output roots (hashed once). */
  private readonly replays = new Map<bigint, { trace: ForwardTrace, roots: Hash[] }>()
  /** Per dispute: the trace the provider posted (it never changes once posted). */
  private readonly posted = new Map<bigint, { slotRoots: Hash[], roots: Hash[] }>()
  /** The last token replayed by firstWrongToken: open replays it no second time. */
  private last: { key: string, trace: ForwardTrace } | undefined

  constructor (clients: Clients, deployment: Deployment, game: Address, ctx: EngineContext, programs: ForwardPrograms, weights: readonly Tensor[]) {
    this.clients = clients
    this.deployment = deployment
    this.game = game
    this.ctx = ctx
    this.programs = programs
    this.weights = weights
  }

  /** The index of the first output token the replay does not give, or -1 when every token agrees. */
  firstWrongToken (answer: Pick<SignedAnswer, 'prompt' | 'output' | 'receipt'>): number {
    const context = this.programs.recipe.model.context
    return answer.output.findIndex((token, i) => this.replay(answerWindow(answer, i, context), answerSampling(answer.receipt, i)).token !== token)
  }

  private replay (window: number[], sampling?: SampledPick): ForwardTrace {
    const key = JSON.stringify([window, sampling])
    if (this.last?.key === key) return this.last.trace
    const trace = traceForward(this.ctx, this.programs.recipe, this.weights, window, { sampling })
    this.last = { key, trace }
    return trace
  }

  private remember (id: bigint, trace: ForwardTrace): { trace: ForwardTrace, roots: Hash[] } {
    const replay = { trace, roots: tensorRoots(trace.outputs) }
    this.replays.set(id, replay)
    return replay
  }

  /** The provider's posted trace of dispute `id`, read from the chain once. */
  private async postedOf (id: bigint): Promise<{ slotRoots: Hash[], roots: Hash[] }> {
    const known = this.posted.get(id)
    if (known !== undefined) return known
    const posted = await postedGenerationTrace(this.clients, this.game, id, BigInt(this.deployment.block))
    this.posted.set(id, posted)
    return posted
  }

  /**
   * Opens a dispute over token `index` (default: the first wrong one), paying the bond.
   * Over a token that replays the same, only a bogus challenge (that must lose).
   */
  async open (answer: SignedAnswer, index = this.firstWrongToken(answer)): Promise<{ id: bigint, move: GenerationMove }> {
    const claim = this.claimOf(answer, index)
    const bond = await this.clients.public.readContract({ address: this.game, abi: inferenceDisputesAbi, functionName: 'bond' })
    await send(this.clients, { address: this.deployment.contracts.token, abi: commonsTokenAbi, functionName: 'approve', args: [this.game, bond] })
    const receipt = await send(this.clients, { address: this.game, abi: inferenceDisputesAbi, functionName: 'open', args: [claim] })
    const id = openedGenerationDispute(receipt)
    this.remember(id, this.replay(answerWindow(answer, index, this.programs.count), answerSampling(answer.receipt, index)))
    return { id, move: { name: 'open', gas: receipt.gasUsed } }
  }

  /** The argument of InferenceDisputes.open over token `index` of `answer` (for an open made by another contract too). */
  claimOf (answer: SignedAnswer, index: number) {
    if (index < 0) throw new GenerationDisputeError('every token of the answer replays the same: nothing to dispute')
    const length = answerWindow(answer, index, this.programs.count).length
    const sampled = answerSampling(answer.receipt, index) !== undefined
    return {
      service: answer.service,
      receipt: answer.receipt,
      signature: answer.signature,
      prompt: [...answer.prompt],
      output: [...answer.output],
      index,
      header: this.programs.header(length, sampled),
      programProof: nodeProof(this.programs.hashes(), this.programs.leaf(length, sampled)).map(toHex)
    }
  }

  /**
   * Names the first element where the posted trace departs from the replay: the first
   * op whose root differs has the challenger's own inputs, and `providerOutput` (the
   * provider's published trace) gives the provider's values of that op. `choice` names
   * an element outright (a bogus challenge, in tests).
   */
  async pinpoint (id: bigint, providerOutput: (op: number) => Promise<Tensor>, choice?: { op: number, element: number }): Promise<GenerationMove & { op: number, element: number }> {
    const { trace, roots: mine } = await this.replayOf(id)
    const { slotRoots, roots } = await this.postedOf(id)
    let { op, element } = choice ?? { op: firstDepartingOp(roots, mine), element: -1 }
    if (op < 0) throw new GenerationDisputeError(`the posted trace of generation dispute ${id} agrees with the replay`)
    if (choice === undefined) {
      const theirs = await providerOutput(op)
      if (toHex(tensorRoot(theirs)) !== toHex(roots[op])) throw new GenerationDisputeError(`the provider's published output of op ${op} does not match its posted root`)
      element = firstDifference(theirs, trace.outputs[op])
    }
    const { program } = trace
    const programOp = program.ops[op]
    const inputs = forwardInputs(programOp, trace, this.weights, trace.tokens)
    const inputRoots = programOp.inputs.map((r, i) => {
      if (r.kind === 'slot') return proven(slotRoots, r.index)
      if (r.kind === 'op') return proven(roots, r.index)
      return { root: toHex(tensorRoot(inputs[i])), proof: [] }
    })
    const receipt = await send(this.clients, {
      address: this.game,
      abi: inferenceDisputesAbi,
      functionName: 'pinpoint',
      args: [id, {
        opIndex: BigInt(op),
        op: opStruct(programOp, program.constantRoots),
        opProof: opProof(program.ops, program.constantRoots, op).map(toHex),
        element: BigInt(element),
        outputRoot: toHex(roots[op]),
        outputProof: nodeProof(roots, op).map(toHex),
        inputRoots,
        openings: openingsFor(programOp, element, trace.context, inputs).map(openingStruct)
      }]
    })
    return { name: 'pinpoint', gas: receipt.gasUsed, op, element }
  }

  /**
   * Its replay of dispute `id`'s token (under the receipt's sampling, for a sampled answer)
   * and its roots: kept from the open, or rebuilt from the open's logged claim (after a restart).
   */
  private async replayOf (id: bigint): Promise<{ trace: ForwardTrace, roots: Hash[] }> {
    const known = this.replays.get(id)
    if (known !== undefined) return known
    const claim = await disputedClaim(this.clients, this.game, id, BigInt(this.deployment.block))
    return this.remember(id, this.replay(answerWindow(claim, claim.index, claim.window), answerSampling(claim.receipt, claim.index)))
  }

  /**
   * Asks the provider on-chain for leaves [firstLeaf, firstLeaf + leaves) of op `op`'s
   * output (data availability: for a provider that does not publish its values).
   */
  async requestValues (id: bigint, op: number, firstLeaf: number, leaves: number): Promise<GenerationMove> {
    const { program } = (await this.replayOf(id)).trace
    const { roots } = await this.postedOf(id)
    const receipt = await send(this.clients, {
      address: this.game,
      abi: inferenceDisputesAbi,
      functionName: 'requestValues',
      args: [id, {
        opIndex: BigInt(op),
        op: opStruct(program.ops[op], program.constantRoots),
        opProof: opProof(program.ops, program.constantRoots, op).map(toHex),
        outputRoot: toHex(roots[op]),
        outputProof: nodeProof(roots, op).map(toHex),
        firstLeaf: BigInt(firstLeaf),
        leaves: BigInt(leaves)
      }]
    })
    return { name: 'requestValues', gas: receipt.gasUsed }
  }

  /**
   * Makes whatever move dispute `id` waits for from the challenger, from the chain alone:
   * at the first op whose posted root departs from the replay, it asks for that op's
   * values (valuesWalk.ts) until the revealed leaves name a differing element, then
   * pinpoints it; a provider that is late is ended by timeout. Null when it waits for
   * the provider, or when the posted trace agrees with the replay (nothing to pinpoint).
   */
  async advance (id: bigint): Promise<GenerationMove | null> {
    const d = await readGenerationDispute(this.clients, this.game, id)
    if (d.phaseName === 'resolved') return null
    if (d.phaseName !== 'await-pinpoint') return await isLate(this.clients, d.deadline) ? await this.timeout(id) : null
    const { trace, roots: mine } = await this.replayOf(id)
    const op = firstDepartingOp((await this.postedOf(id)).roots, mine)
    if (op < 0) return null
    const output = trace.outputs[op]
    const next = walkStep(output, op, await revealedValues(this.clients, this.deployment, id, this.game))
    if ('element' in next) return await this.pinpoint(id, async () => output, { op, element: next.element })
    return await this.requestValues(id, op, next.firstLeaf, next.leaves)
  }

  async timeout (id: bigint): Promise<GenerationMove> {
    const receipt = await send(this.clients, { address: this.game, abi: inferenceDisputesAbi, functionName: 'timeout', args: [id] })
    return { name: 'timeout', gas: receipt.gasUsed }
  }
}

function proven (nodes: Hash[], index: number): { root: `0x${string}`, proof: Array<`0x${string}`> } {
  return { root: toHex(nodes[index]), proof: nodeProof(nodes, index).map(toHex) }
}
