import { BaseError } from '@commons/errors'
import type { Challenger, Clients, Defender, Deployment, DisputeOutcome, JobPolicy, Move } from '@commons/chain'
import type { EngineContext, Recipe } from '@commons/engine'
import type { Store } from '@commons/store'
import type { FaultSpec } from './faults.ts'
import type { NetworkNode } from './network.ts'
import type { NodeState } from './state.ts'

/** What the parts of a node share: its options, connections, memory and the work in flight. */

export class NodeError extends BaseError {
  override name = 'NodeError'
}

/** Long work cut short because the node is stopping (it resumes at the next start). */
export class NodeStoppingError extends BaseError {
  override name = 'NodeStoppingError'
}

export type Role = 'requester' | 'trainer' | 'validator' | 'curator'

export interface NodeOptions {
  home: string
  rpcUrl: string
  deployment: Deployment
  roles: Role[]
  /** What the node runs training steps on (an open backend's context); default: the reference kernels. */
  engine?: EngineContext
  /** Keystore password (default $COMMONS_PASSWORD) and scrypt cost (tests lower it). */
  password?: string
  scryptN?: number
  listen?: string[]
  bootstrap?: string[]
  /** Port of the HTTP API on loopback; 0 picks one, false starts none. */
  apiPort?: number | false
  /** Trainer: corrupt a value on purpose (to exercise the network's defences). */
  fault?: FaultSpec
  /**
   * Validator: how many drawn steps of each result it replays besides S_0 ('all' replays
   * every step). Left out, the count is sized by `checkProbability`.
   */
  checkSteps?: number | 'all'
  /** Validator: the chance that its drawn steps include any one given step (default 0.1; README). */
  checkProbability?: number
  /** Trainer: the jobs it takes (max challenge window, training time, steps; min reward). */
  policy?: Partial<JobPolicy>
  /** Milliseconds between looks at the chain (default 1,000: an idle node asks once a second). */
  pollMs?: number
  /** Blocks an event must be under before the node acts on it (default 0, a devnet's). */
  confirmations?: number
  /** Most blocks one eth_getLogs spans (default 1,000, what capped providers allow). */
  logRange?: number
  /** Milliseconds a block of a job's recipe or dataset may take to arrive (default 60,000). */
  fetchTimeoutMs?: number
  /** Validator: milliseconds to wait for the trainer's announced op trace before forcing its values out on-chain (default 60,000). */
  traceWaitMs?: number
  /** Stake to hold in the StakeRegistry (topped up at start when the account can pay). */
  stake?: bigint
  log?: (line: string) => void
}

/** What the node did in a dispute, for summaries. */
export interface DisputeReport extends Partial<DisputeOutcome> {
  id: bigint
  jobId: bigint
  step: number
  role: 'challenger' | 'trainer'
  moves?: Move[]
}

/** Milliseconds a node spent, by kind of work (for the network benchmark). */
export interface Timings {
  training: number
  verification: number
  transfer: number
  chain: number
}

/** A job's inputs, checked against its terms: the recipe to train is the job's. */
export interface JobInputs {
  recipe: Recipe
  tokens: Int32Array
}

export interface Context {
  options: NodeOptions
  /** This node's engine context: no other node in the process shares it unless handed the same. */
  engine: EngineContext
  clients: Clients
  store: Store
  network: NetworkNode
  state: NodeState
  log: (line: string) => void
  policy: JobPolicy
  /** Op trace CIDs announced on gossip, by dispute id, then by the announcing peer. */
  traces: Map<string, Map<string, string>>
  /** Validator side of open disputes. */
  /** This validator's disputes; `walking` once it finds the element on-chain (no published trace). */
  challengers: Map<string, { challenger: Challenger, step: number, moves: Move[], open: Move, walking?: boolean }>
  /** Trainer side: what defends each job's run. */
  defenders: Map<string, Defender>
  /** Checked inputs of jobs, by id (tokenizing a dataset once per job). */
  inputs: Map<string, Promise<JobInputs>>
  reports: DisputeReport[]
  timings: Timings
  /** Long work (training, replays) in flight, off the event queue; one of each kind at a time. */
  work: { training: Promise<void> | null, checking: Promise<void> | null }
  /** Queues a handler on the node's event queue. */
  enqueue: (handler: () => Promise<void>) => void
  stopped: () => boolean
}

export async function timed<T> (ctx: Context, kind: keyof Timings, work: () => Promise<T>): Promise<T> {
  const started = performance.now()
  try {
    return await work()
  } finally {
    ctx.timings[kind] += performance.now() - started
  }
}

export const isRole = (ctx: Context, role: Role): boolean => ctx.options.roles.includes(role)
export const isMe = (ctx: Context, address: string): boolean => address.toLowerCase() === ctx.clients.account.address.toLowerCase()
