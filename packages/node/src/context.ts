import { BaseError } from '@commons/errors'
import type { Challenger, Clients, Defender, Deployment, DisputeOutcome, JobInputs, JobPolicy, Move } from '@commons/chain'
import type { EngineContext } from '@commons/engine'
import type { Store } from '@commons/store'
import type { FaultSpec } from './faults.ts'
import type { NetworkNode } from './network.ts'
import type { NodeState } from './state.ts'

/** What the parts of a node share: its options, connections, memory and the work in flight. */

export class NodeError extends BaseError {
  override name = 'NodeError'
}

export type Role = 'requester' | 'trainer' | 'validator' | 'curator' | 'storer'

/**
 * A node's settings (libp2p's `init`): what it does and how; left-out settings take the
 * defaults of constants.ts. What it works with is passed apart, as `NodeComponents`.
 */
export interface NodeInit {
  /** Where the node keeps its runs, replays, fetched models and dispute traces. */
  home: string
  deployment: Deployment
  roles: Role[]
  /** Port of the HTTP API on loopback; 0 picks one, false starts none. */
  apiPort?: number | false
  /** Port on loopback to serve the explorer on (0 picks one); left out, none is served. */
  explorerPort?: number
  /** Trainer: corrupt a value on purpose (to exercise the network's defences). */
  fault?: FaultSpec
  /**
   * Validator: how many drawn steps of each result it replays besides S_0 ('all' replays
   * every step). Left out, the count is sized by `checkProbability`.
   */
  checkSteps?: number | 'all'
  /** Validator: the chance that its drawn steps include any one given step (DEFAULT_CHECK_PROBABILITY). */
  checkProbability?: number
  /** Trainer: the jobs it takes (max challenge window, training time, steps; min reward). */
  policy?: Partial<JobPolicy>
  /** Milliseconds between looks at the chain (DEFAULT_POLL_MS). */
  pollMs?: number
  /** Blocks an event must be under before the node acts on it (DEFAULT_CONFIRMATIONS). */
  confirmations?: number
  /** Milliseconds a transaction the node sends may take to be mined (default: the chain's, receiptTimeoutMs in @commons/chain). */
  receiptTimeoutMs?: number
  /** Most blocks one eth_getLogs spans (DEFAULT_LOG_RANGE). */
  logRange?: number
  /** Milliseconds a block of a job's recipe or dataset may take to arrive (DEFAULT_JOB_FETCH_TIMEOUT_MS). */
  fetchTimeoutMs?: number
  /** Validator: milliseconds to wait for the trainer's announced op trace before forcing its values out on-chain (DEFAULT_TRACE_WAIT_MS). */
  traceWaitMs?: number
  /** Stake to hold in the StakeRegistry (topped up at start when the account can pay). */
  stake?: bigint
  log?: (line: string) => void
}

/**
 * What a node works with (libp2p's `components`), made by its caller: chain clients
 * holding the node's key, a store whose blocks the network serves, the network, and the
 * node's SQLite memory. The node uses them and leaves closing them to whoever made them.
 */
export interface NodeComponents {
  clients: Clients
  store: Store
  network: NetworkNode
  state: NodeState
  /** What the node runs training steps on (an open backend's context); default: the reference kernels. */
  engine?: EngineContext
}

/** `startNode`'s options: the settings, and how to make the components under `home`. */
export interface NodeOptions extends NodeInit {
  rpcUrl: string
  /** What the node runs training steps on (an open backend's context); default: the reference kernels. */
  engine?: EngineContext
  /** Keystore password (default $COMMONS_PASSWORD) and scrypt cost (tests lower it). */
  password?: string
  scryptN?: number
  listen?: string[]
  bootstrap?: string[]
}

/** A part of a node that runs while the node does. */
export interface Service {
  start: () => void | Promise<void>
  stop: () => void | Promise<void>
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

export interface Context {
  options: NodeInit
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
  /** This validator's disputes; `walking` once it finds the element on-chain (no published trace). */
  challengers: Map<string, { challenger: Challenger, step: number, moves: Move[], open: Move, walking?: boolean }>
  /** Trainer side: what defends each job's run. */
  defenders: Map<string, Defender>
  /** Checked inputs of jobs, by id (tokenizing a dataset once per job). */
  inputs: Map<string, Promise<JobInputs>>
  reports: DisputeReport[]
  timings: Timings
  /**
   * Long work in flight, off the event queue, one at a time in each lane: training, the
   * checks of results, and the replays that take a dispute up again after a restart.
   */
  work: { training: Promise<void> | null, checking: Promise<void> | null, withheld: Promise<void> | null, resuming: Promise<void> | null, defending: Promise<void> | null }
  /** Jobs waiting in the `withheld` lane, with their window's end once read: each turn takes the one that ends first (firstWindowToEnd). */
  withheldWaiting: Map<bigint, bigint | undefined>
  /** Queues a handler on the node's event queue. */
  enqueue: (handler: () => Promise<void>) => void
  stopped: () => boolean
  /** Aborted when the node stops: a fetch in flight gives up at once instead of at its timeout. */
  stopping: AbortSignal
}

export async function timed<T> (ctx: Context, kind: keyof Timings, work: () => Promise<T>): Promise<T> {
  const started = performance.now()
  try {
    return await work()
  } finally {
    ctx.timings[kind] += performance.now() - started
  }
}

/** Runs `work` off the event queue, after the work already in its lane; a failure is logged under `label`. */
export function offQueue (ctx: Context, lane: 'checking' | 'withheld' | 'resuming' | 'defending', label: string, work: () => Promise<void>): void {
  const previous = ctx.work[lane] ?? Promise.resolve()
  const next: Promise<void> = previous.then(work).catch((error: unknown) => {
    ctx.log(`${label}: ${(error as Error).message}`)
  }).finally(() => { if (ctx.work[lane] === next) ctx.work[lane] = null })
  ctx.work[lane] = next
}

export const isRole = (ctx: Context, role: Role): boolean => ctx.options.roles.includes(role)
export const isMe = (ctx: Context, address: string): boolean => address.toLowerCase() === ctx.clients.account.address.toLowerCase()
