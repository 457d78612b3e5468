import { BaseError } from '@commons/errors'
import { hexBytes, type Hash } from '@commons/protocol'
import type { EngineContext, Program, Recipe, StepRecord, Tensor, TokenStream, TrainState } from '@commons/engine'
import type { Hex } from 'viem'
import type { Clients } from './clients.ts'
import { latestEvents } from './logs.ts'
import type { Deployment } from './deploy.ts'
import type { Challenger } from './challenger.ts'
import type { Defender } from './defender.ts'
import { disputeGameAbi } from './generated/contracts.ts'
import { disputePhases, disputeReasons } from './generated/enums.ts'

/**
 * Both sides of a pinpoint dispute (docs/design.md §6, docs/step-program.md), played against
 * the DisputeGame contract: the challenger replays a step, opens, and names the first
 * element where the trainer's op trace departs from the step program; the trainer
 * posts its trace and opens that element. Each method is one move and reads the
 * dispute from the chain, so a node can call them from event handlers. This file holds
 * what both sides share and playDispute; the sides are challenger.ts and defender.ts.
 */

export class DisputeError extends BaseError {
  override name = 'DisputeError'
}

/** The step of an initial-state dispute. */
export const INIT_STEP = 0xffffffff

/** DisputeGame.Reason, in its order, and who each one makes the winner. */
const REASONS = disputeReasons
export type DisputeReason = typeof REASONS[number]
const CHALLENGER_WINS: ReadonlySet<DisputeReason> = new Set(['trace-timeout', 'reveal-timeout', 'mismatch', 'values-timeout', 'records-timeout'])
/** DisputeGame.Phase, in its order. */
export const PHASES = disputePhases
export type DisputePhase = typeof PHASES[number]

/** What is public about a submitted run: the job, how it was to be trained, its transcript. */
export interface RunClaim {
  /** What this checker re-runs steps on. */
  engine: EngineContext
  jobId: bigint
  recipe: Recipe
  /** The job's tokens: in memory, or a stored stream read by windows. */
  tokens: Int32Array | TokenStream
  program: Program
  /** Transcript records t = 0..steps (state root and loss); only those known when `proofs` is given. */
  records: StepRecord[]
  /**
   * For a challenger who has only some records (a run withheld, records forced out by
   * queries): each known record's loss bits and proof, as the trainer posted them. Without
   * it proofs are computed from the whole transcript.
   */
  proofs?: ReadonlyMap<number, { lossBits: number, proof: Hex[] }>
  /** A fine-tuning job's base weights: S_0's parameters. */
  base?: readonly Tensor[]
}

/** A move on chain and what it cost. */
export interface Move {
  name: 'open' | 'postOpTrace' | 'requestValues' | 'provideValues' | 'postRecords' | 'pinpoint' | 'reveal' | 'timeout'
  gas: bigint
}

/** A dispute as the contract keeps it. */
export async function readDispute (clients: Clients, deployment: Deployment, id: bigint) {
  const d = await clients.public.readContract({ address: deployment.contracts.disputeGame, abi: disputeGameAbi, functionName: 'getDispute', args: [id] })
  const reasonName = REASONS[d.reason]
  const phaseName = PHASES[d.phase]
  const winner = reasonName === 'none' ? null : CHALLENGER_WINS.has(reasonName) ? 'challenger' as const : 'trainer' as const
  return { ...d, reasonName, phaseName, resolved: phaseName === 'resolved', winner }
}

/** The op output roots the trainer posted, from the OpTracePosted event. */
export async function postedTrace (clients: Clients, deployment: Deployment, id: bigint): Promise<Hash[]> {
  // Searched back from the newest block in bounded windows: providers cap eth_getLogs ranges.
  const events = await latestEvents(clients, { address: deployment.contracts.disputeGame, abi: disputeGameAbi, eventName: 'OpTracePosted', args: { id }, fromBlock: BigInt(deployment.block) })
  const roots = (events[0]?.args as { roots?: readonly Hex[] } | undefined)?.roots
  if (roots === undefined) throw new DisputeError(`dispute ${id} has no posted op trace yet`)
  return roots.map(hexBytes)
}
/** How a dispute played out. */
export interface DisputeOutcome {
  id: bigint
  step: number
  winner: 'challenger' | 'trainer'
  reason: DisputeReason
  /** Moves after open. */
  moves: Move[]
  open: Move
  op?: number
  element?: number
}

/** Plays a whole dispute over step t (or INIT_STEP) between a challenger and a trainer. */
export async function playDispute (challenger: Challenger, defender: Defender, step: number, stateT?: TrainState): Promise<DisputeOutcome> {
  const { id, move: open } = await challenger.open(step, stateT)
  const moves: Move[] = [await defender.postOpTrace(id)]
  const pinned = await challenger.lossOnly(id) ? await challenger.pinpointLoss(id) : await challenger.pinpoint(id, async op => defender.output(step, op))
  moves.push(pinned, await defender.reveal(id))
  const d = await readDispute(challenger.clients, challenger.deployment, id)
  if (d.winner === null) throw new DisputeError(`dispute ${id} did not resolve`)
  return { id, step, winner: d.winner, reason: d.reasonName, moves, open, op: pinned.op, element: pinned.element }
}
