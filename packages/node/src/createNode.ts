import type { Address } from 'viem'
import { DEFAULT_JOB_POLICY, type Clients, type JobSpec } from '@commons/chain'
import { referenceContext } from '@commons/engine'
import type { Store } from '@commons/store'
import { createAnnouncer } from './announcer.ts'
import { startApi, type ApiServer } from './api.ts'
import { serveExplorer } from './explorer.ts'
import { createChainEvents } from './chainEvents.ts'
import { closeJobInputs } from './content.ts'
import type { Context, DisputeReport, NodeComponents, NodeInit, Service, Timings } from './context.ts'
import { createEventQueue } from './eventQueue.ts'
import { createGossip } from './gossip.ts'
import type { NetworkNode } from './network.ts'
import { NodeStoppingError } from './errors.ts'
import { ensureRegistered } from './register.ts'
import { jobSpecFor, requesterPost, verifyModel, type ModelCheck, type PostJobParams } from './roles/requester.ts'
import { trainerService } from './roles/trainer.ts'
import { validatorService } from './roles/validator.ts'
import { storerService, type StorerStats } from './roles/storer.ts'
import type { NodeState } from './state.ts'

/**
 * A Commons node: an Ethereum key and a libp2p peer, a blockstore shared over bitswap,
 * a SQLite memory, and roles. It follows the chain (market and dispute game events)
 * and the gossip topics, and acts:
 *   requester  posts jobs, fetches the finished model by CID and verifies it
 *   trainer    claims jobs whose terms it checked and that it can afford, trains,
 *              publishes the run, submits, defends (roles/trainer.ts)
 *   validator  replays S_0 and the steps drawn for it, attests or disputes and plays
 *              it through (roles/validator.ts)
 *   storer     keeps versions storage deals pay for and proves them each epoch (roles/storer.ts)
 * Events are handled one at a time, in chain order, so a node's moves never race each
 * other; long work (training, replays) runs beside the queue, so moves are never late.
 */

export interface CommonsNode {
  address: Address
  peerId: string
  clients: Clients
  network: NetworkNode
  store: Store
  state: NodeState
  api: ApiServer | null
  /** The explorer's URL when the node serves it (`explorerPort`), else null. */
  explorer: { url: string } | null
  /** Disputes this node took part in, as they ended. */
  reports: DisputeReport[]
  timings: Timings
  /** Storer: slots taken, proofs made (and their gas), misses reported, proofs it could not make. */
  storage: StorerStats
  /** Requester: posts a training job for a dataset version in this node's store. */
  postJob(params: PostJobParams): Promise<bigint>
  /** The terms such a job would have (for a DAO to fund it through a proposal). */
  jobSpec(params: PostJobParams): Promise<JobSpec>
  /** Requester: fetches the run of a finished job by CID and checks it against the chain. */
  verifyModel(jobId: bigint): Promise<ModelCheck>
  /** Waits until every queued event and the long work they started are done. */
  idle(): Promise<void>
  /** Stops the node's services; the components stay open for whoever made them. */
  stop(): Promise<void>
}

/**
 * Makes a node of `components` with the settings of `init` and starts its services:
 * gossip, the chain's events, the roles, registration in the StakeRegistry, the API.
 */
export async function createNode (components: NodeComponents, init: NodeInit): Promise<CommonsNode> {
  const { clients, store, network, state } = components
  const engine = components.engine ?? referenceContext()
  const log = init.log ?? (() => {})
  const queue = createEventQueue(log)
  const stopping = new AbortController()
  const ctx: Context = {
    options: init, engine, clients, store, network, state, log, policy: { ...DEFAULT_JOB_POLICY, ...init.policy },
    traces: new Map(), challengers: new Map(), defenders: new Map(), inputs: new Map(), reports: [],
    timings: { training: 0, verification: 0, transfer: 0, chain: 0 },
    work: { training: null, checking: null, withheld: null, resuming: null, defending: null }, withheldWaiting: new Map(), enqueue: queue.enqueue, stopped: queue.stopped,
    stopping: stopping.signal
  }
  const chainEvents = createChainEvents(ctx, queue)
  const storage: StorerStats = { joined: 0, proofs: 0, reported: 0, failed: 0, gas: [] }
  const services: Service[] = [createGossip(ctx, chainEvents.wake), chainEvents, trainerService(ctx), validatorService(ctx), storerService(ctx, storage), createAnnouncer(ctx)]
  const started: Service[] = []

  const settle = async (): Promise<void> => {
    for (;;) {
      const pending = [queue.running(), ctx.work.training, ctx.work.checking, ctx.work.resuming, ctx.work.defending].filter(p => p !== null)
      if (pending.length === 0) return
      await Promise.all(pending)
    }
  }
  const stop = async (): Promise<void> => {
    queue.stop()
    stopping.abort(new NodeStoppingError())
    await settle()
    for (const service of [...started].reverse()) await service.stop()
    await closeJobInputs(ctx)
  }

  let api: ApiServer | null = null
  let explorer: { url: string } | null = null
  try {
    for (const service of services) {
      await service.start()
      started.push(service)
    }
    await ensureRegistered(ctx, init.stake).catch((error: unknown) => { log(`could not register in the StakeRegistry: ${(error as Error).message}`) })
    const status = (): Record<string, unknown> => ({
      address: clients.account.address, peerId: network.peerId, roles: init.roles, multiaddrs: network.multiaddrs(),
      peers: network.peers(), rpcUrl: clients.rpcUrl, contracts: init.deployment.contracts
    })
    api = init.apiPort === false ? null : await startApi(state, status, init.apiPort ?? 0)
    if (init.explorerPort !== undefined) {
      const served = await serveExplorer(components, init, init.explorerPort)
      explorer = served
      started.push({ start () {}, stop: async () => served.stop() })
    }
  } catch (error) {
    await stop().catch(() => {})
    throw error
  }
  const apiService = api
  if (apiService !== null) started.push({ start () {}, stop: async () => apiService.close() })
  log(`node ${clients.account.address} (${init.roles.join(', ')}) peer ${network.peerId}${api === null ? '' : `, API ${api.url}`}${explorer === null ? '' : `, explorer ${explorer.url}`}`)
  chainEvents.tick()

  return {
    address: clients.account.address,
    peerId: network.peerId,
    clients,
    network,
    store,
    state,
    api,
    explorer: explorer === null ? null : { url: explorer.url },
    reports: ctx.reports,
    timings: ctx.timings,
    storage,
    postJob: async params => requesterPost(ctx, params),
    jobSpec: async params => jobSpecFor(ctx.engine, ctx.store, params),
    verifyModel: async jobId => verifyModel(ctx, jobId),
    idle: settle,
    stop
  }
}
