import {
  nodeProof, openingsFor, openingStruct, opProof, opStruct, recordHashes, stateRoot, tensorRoot, tensorRoots, tensorsRoot, toHex, wordOf
} from '@commons/protocol'
import { dataTokensRoot, initialState, opInputs, stateSlots, Tensor, traceStep, type TrainState } from '@commons/engine'
import type { Hex, TransactionReceipt } from 'viem'
import { send, type Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import { DisputeError, INIT_STEP, postedTrace, type Move, type RunClaim } from './dispute.ts'
import { revealedValues } from './disputeData.ts'
import { commonsTokenAbi, disputeGameAbi } from './generated/contracts.ts'
import { firstDepartingOp, walkStep, type NextStep } from './valuesWalk.ts'
import { receiptEvent } from './receiptEvent.ts'

/**
 * The challenger's side of a pinpoint dispute (dispute.ts): replays a step, opens, and
 * names the first element where the trainer's op trace departs from the step program.
 */

/** The first element where two tensors differ bit for bit, or -1. */
export function firstDifference (a: Tensor, b: Tensor): number {
  for (let i = 0; i < a.size; i++) if (wordOf(a.data[i], a.dtype) !== wordOf(b.data[i], b.dtype)) return i
  return -1
}
export class Challenger {
  readonly clients: Clients
  readonly deployment: Deployment
  private readonly claim: RunClaim
  /** Per dispute: the honest slots of S_t and op outputs (or S_0's slots for INIT). */
  private readonly honest = new Map<bigint, { step: number, slots: Tensor[], outputs: Tensor[], agrees: boolean }>()

  constructor (clients: Clients, deployment: Deployment, claim: RunClaim) {
    this.clients = clients
    this.deployment = deployment
    this.claim = claim
  }

  /**
   * Replays step t from S_t (the trainer's checkpoint, checked against record t) and
   * compares S_{t+1} with record t+1; INIT_STEP checks S_0 against record 0.
   */
  check (step: number, stateT?: TrainState): { agrees: boolean, lossAgrees: boolean, slots: Tensor[], outputs: Tensor[] } {
    const { engine, recipe, records, tokens } = this.claim
    if (step === INIT_STEP) {
      const slots = stateSlots(initialState(recipe, this.claim.base))
      return { agrees: toHex(stateRoot(slots, 0)) === records[0].state, lossAgrees: true, slots, outputs: slots }
    }
    if (stateT === undefined) throw new DisputeError(`checking step ${step} needs the state before it`)
    const slots = stateSlots(stateT)
    if (toHex(stateRoot(slots, step)) !== records[step].state) throw new DisputeError(`the state given for step ${step} is not the one the transcript commits to`)
    const copy: TrainState = { step, params: [], m: [], v: [] }
    const p = this.claim.program.paramSlots
    const clones = slots.map(t => new Tensor(t.shape, Float32Array.from(t.f32)))
    Object.assign(copy, { params: clones.slice(0, p), m: clones.slice(p, 2 * p), v: clones.slice(2 * p) })
    const trace = traceStep(engine, recipe, tokens, copy, { base: this.claim.base })
    // The trainer's bits where it posted them (a NaN of another payload is a lie: NaN is
    // committed canonical), else its record's loss.
    const claimed = this.claim.proofs?.get(step)?.lossBits ?? wordOf(records[step].loss, 'f32')
    const lossAgrees = wordOf(trace.loss, 'f32') === claimed
    // Step T (the last record) has no next state: only its loss, an evaluation of S_T, can differ.
    const next = step >= recipe.steps ? undefined : records[step + 1]
    if (step < recipe.steps && next === undefined) throw new DisputeError(`checking step ${step} needs record ${step + 1}, which is not known`)
    const agrees = next === undefined || toHex(stateRoot(stateSlots(copy), step + 1)) === next.state
    return { agrees, lossAgrees, slots: trace.before, outputs: trace.outputs }
  }

  /**
   * Opens a dispute over step t (or INIT_STEP), paying the bond. `force` opens one even
   * when the replay agrees (a bogus challenge, to test that it loses its bond).
   */
  async open (step: number, stateT?: TrainState, options: { force?: boolean } = {}): Promise<{ id: bigint, move: Move }> {
    const { slots, outputs, agrees, lossAgrees } = this.check(step, stateT)
    if (agrees && lossAgrees && options.force !== true) throw new DisputeError(`step ${step} replays to the committed state and loss: nothing to dispute`)
    const { records, program, jobId, recipe } = this.claim
    const game = this.deployment.contracts.disputeGame
    const bond = await this.clients.public.readContract({ address: game, abi: disputeGameAbi, functionName: 'bond' })
    try {
      await send(this.clients, { address: this.deployment.contracts.token, abi: commonsTokenAbi, functionName: 'approve', args: [game, bond] })
    } catch (error) {
      // Not the open's own error: a caller that holds back a second open while the first is in the pool must not take this for it.
      throw new DisputeError(`approving the dispute bond failed: ${(error as Error).message}`, { cause: error })
    }
    const at = step === INIT_STEP ? 0 : step
    // INIT and step T (the last record, an evaluation dispute) prove one record only.
    const one = step === INIT_STEP || step >= recipe.steps
    const after = one ? at : step + 1
    const proven = this.#proven(at, after)
    const proof = {
      recordBefore: { state: records[at].state, lossBits: proven.before.lossBits },
      beforeProof: proven.before.proof,
      recordAfter: { state: records[after].state, lossBits: proven.after.lossBits },
      afterProof: one ? [] : proven.after.proof,
      slotsRoot: step === INIT_STEP ? toHex(new Uint8Array(32)) : toHex(tensorsRoot(slots))
    }
    const receipt = await send(this.clients, { address: game, abi: disputeGameAbi, functionName: 'open', args: [jobId, step, program.header, proof] })
    const id = openedId(receipt)
    this.honest.set(id, { step, slots, outputs, agrees })
    return { id, move: { name: 'open', gas: receipt.gasUsed } }
  }

  /** Records `at` and `after`, each with its loss bits and proof: given (records forced out by queries), or from the whole transcript. */
  #proven (at: number, after: number): Record<'before' | 'after', { lossBits: number, proof: Hex[] }> {
    const { records, proofs } = this.claim
    if (proofs !== undefined) {
      const before = proofs.get(at)
      const next = proofs.get(after)
      if (before === undefined || next === undefined) throw new DisputeError(`opening over records ${at} and ${after} needs both proven; known: ${[...proofs.keys()].join(', ')}`)
      return { before, after: next }
    }
    const hashes = recordHashes(records)
    const of = (i: number): { lossBits: number, proof: Hex[] } => ({ lossBits: wordOf(records[i].loss, 'f32'), proof: nodeProof(hashes, i).map(toHex) })
    return { before: of(at), after: of(after) }
  }

  /** Takes up dispute `id`, opened by this challenger before a restart: recomputes its side of step t. */
  resume (id: bigint, step: number, stateT?: TrainState): void {
    const { slots, outputs, agrees } = this.check(step, stateT)
    this.honest.set(id, { step, slots, outputs, agrees })
  }

  /**
   * Names the first element where the posted trace departs from the honest one: the
   * first op whose root differs has the challenger's own inputs, and `trainerOutput`
   * (the trainer's published trace) gives the trainer's values of that op.
   */
  async pinpoint (id: bigint, trainerOutput: (op: number) => Promise<Tensor>, choice?: { op: number, element: number }): Promise<Move & { op: number, element: number }> {
    const honest = this.honestOf(id)
    const roots = await postedTrace(this.clients, this.deployment, id)
    const { op, element } = choice ?? await this.departure(id, trainerOutput)
    const init = honest.step === INIT_STEP
    const { program } = this.claim
    const ops = init ? program.init : program.step
    const programOp = ops[op]
    const ctx = { seed: this.claim.recipe.seed, step: init ? 0 : honest.step }
    // The tokens as the claim holds them: a WINDOW element's opening is proved from the
    // windows under it, never from the whole stream in memory (windowProofs in protocol).
    const inputs = opInputs(programOp, { program, before: honest.slots, outputs: honest.outputs }, this.claim.tokens)
    const slotRoots = tensorRoots(honest.slots)
    const inputRoots = programOp.inputs.map((r, i) => {
      if (r.kind === 'slot') return { root: toHex(slotRoots[r.index]), proof: nodeProof(slotRoots, r.index).map(toHex) }
      if (r.kind === 'op') return { root: toHex(roots[r.index]), proof: nodeProof(roots, r.index).map(toHex) }
      // A stored stream's root was recorded as it was written: not hashed again here.
      if (r.kind === 'tokens') return { root: dataTokensRoot(this.claim.tokens), proof: [] }
      return { root: toHex(tensorRoot(inputs[i] as Tensor)), proof: [] }
    })
    const receipt = await send(this.clients, {
      address: this.deployment.contracts.disputeGame,
      abi: disputeGameAbi,
      functionName: 'pinpoint',
      args: [id, {
        opIndex: BigInt(op),
        op: opStruct(programOp, program.constantRoots),
        opProof: opProof(ops, program.constantRoots, op).map(toHex),
        element: BigInt(element),
        outputRoot: toHex(roots[op]),
        outputProof: nodeProof(roots, op).map(toHex),
        inputRoots,
        openings: openingsFor(programOp, element, ctx, inputs).map(openingStruct)
      }]
    })
    return { name: 'pinpoint', gas: receipt.gasUsed, op, element }
  }

  /**
   * The first op whose posted root departs from the replay, and the first element of it
   * where `trainerOutput` (the trainer's published trace) differs from the honest output.
   * Throws when the published output is not the one whose root the trainer posted (a
   * trace the trainer published to mislead, or one read wrong): its values are then
   * walked on-chain (walkValues) instead.
   */
  async departure (id: bigint, trainerOutput: (op: number) => Promise<Tensor>): Promise<{ op: number, element: number }> {
    const honest = this.honestOf(id)
    const roots = await postedTrace(this.clients, this.deployment, id)
    const op = firstDepartingOp(roots, tensorRoots(honest.outputs))
    if (op < 0) throw new DisputeError(`the posted trace of dispute ${id} agrees with the replay`)
    const theirs = await trainerOutput(op)
    if (toHex(tensorRoot(theirs)) !== toHex(roots[op])) throw new DisputeError(`the trainer's published output of op ${op} does not match its posted root`)
    // A root of another length or type (one no reveal can open) names no element to pinpoint.
    const mine = honest.outputs[op]
    const element = theirs.dtype === mine.dtype && theirs.size === mine.size ? firstDifference(theirs, mine) : -1
    if (element < 0) throw new DisputeError(`the trainer's published output of op ${op} is not of the op's shape and type (${theirs.dtype}[${theirs.size}], the op makes ${mine.dtype}[${mine.size}])`)
    return { op, element }
  }

  /**
   * Claims the loss record t commits to is not element 0 of the loss op's output in
   * the trainer's trace (a lie about the loss only; DisputeGame.pinpointLoss).
   */
  async pinpointLoss (id: bigint): Promise<Move & { op: number, element: number }> {
    this.honestOf(id)
    const roots = await postedTrace(this.clients, this.deployment, id)
    const { program } = this.claim
    const op = program.header.lossOp
    const receipt = await send(this.clients, {
      address: this.deployment.contracts.disputeGame,
      abi: disputeGameAbi,
      functionName: 'pinpointLoss',
      args: [id, opStruct(program.step[op], program.constantRoots), opProof(program.step, program.constantRoots, op).map(toHex), toHex(roots[op]), nodeProof(roots, op).map(toHex)]
    })
    return { name: 'pinpoint', gas: receipt.gasUsed, op, element: 0 }
  }

  async timeout (id: bigint): Promise<Move> {
    const receipt = await send(this.clients, { address: this.deployment.contracts.disputeGame, abi: disputeGameAbi, functionName: 'timeout', args: [id] })
    return { name: 'timeout', gas: receipt.gasUsed }
  }

  /**
   * Asks the trainer on-chain for leaves [firstLeaf, firstLeaf + leaves) of op `op`'s
   * output (data availability: for a trainer that does not publish its trace).
   */
  async requestValues (id: bigint, op: number, firstLeaf: number, leaves: number): Promise<Move> {
    const honest = this.honestOf(id)
    const roots = await postedTrace(this.clients, this.deployment, id)
    const { program } = this.claim
    const ops = honest.step === INIT_STEP ? program.init : program.step
    const receipt = await send(this.clients, {
      address: this.deployment.contracts.disputeGame,
      abi: disputeGameAbi,
      functionName: 'requestValues',
      args: [id, {
        opIndex: BigInt(op),
        op: opStruct(ops[op], program.constantRoots),
        opProof: opProof(ops, program.constantRoots, op).map(toHex),
        outputRoot: toHex(roots[op]),
        outputProof: nodeProof(roots, op).map(toHex),
        firstLeaf: BigInt(firstLeaf),
        leaves: BigInt(leaves)
      }]
    })
    return { name: 'requestValues', gas: receipt.gasUsed }
  }

  /**
   * One step of the on-chain walk to a differing element of the first op whose posted
   * root departs from the replay: with nothing revealed yet, the first request; after the
   * trainer's answer, the element to pinpoint or the next request (valuesWalk.ts).
   */
  async walkValues (id: bigint): Promise<{ op: number, next: NextStep, moves: Move[] }> {
    const honest = this.honestOf(id)
    const roots = await postedTrace(this.clients, this.deployment, id)
    const mine = tensorRoots(honest.outputs)
    const op = firstDepartingOp(roots, mine)
    if (op < 0) throw new DisputeError(`the posted trace of dispute ${id} agrees with the replay`)
    const output = honest.outputs[op]
    const revealed = await revealedValues(this.clients, this.deployment, id)
    const next = walkStep(output, op, revealed)
    if ('element' in next) return { op, next, moves: [] }
    return { op, next, moves: [await this.requestValues(id, op, next.firstLeaf, next.leaves)] }
  }

  /**
   * Whether dispute `id` is over a lie about the loss alone, to pinpoint at the loss op
   * (pinpointLoss): the replay agrees with S_{t+1} and the op trace the trainer posted
   * agrees with the replay. A trace that departs anywhere is pinpointed there instead: a
   * liar whose trace repeats its recorded loss would win a pinpointLoss.
   */
  async lossOnly (id: bigint): Promise<boolean> {
    const honest = this.honestOf(id)
    if (honest.step === INIT_STEP || !honest.agrees) return false
    const roots = await postedTrace(this.clients, this.deployment, id)
    return firstDepartingOp(roots, tensorRoots(honest.outputs)) < 0
  }

  private honestOf (id: bigint) {
    const honest = this.honest.get(id)
    if (honest === undefined) throw new DisputeError(`dispute ${id} was not opened by this challenger`)
    return honest
  }
}

function openedId (receipt: TransactionReceipt): bigint {
  return receiptEvent(receipt, disputeGameAbi, 'DisputeOpened').args.id
}
