import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Abi, type Address, type Hex } from 'viem'
import writeFileAtomic from 'write-file-atomic'
import {
  commonsTokenAbi, connect, DEFAULT_JOB_POLICY, disputeGameAbi, findDeploymentBlock, readStake, roleBits, ROLES, send, stakeRegistryAbi, trainingMarketAbi,
  type Clients, type JobSpec, type RoleName
} from '@commons/chain'
import { referenceContext } from '@commons/engine'
import { openStore, type Store } from '@commons/store'
import { startApi, type ApiServer } from './api.ts'
import { TOPICS } from './constants.ts'
import type { Context, DisputeReport, NodeOptions, Timings } from './context.ts'
import { recordOutcome, tryTimeouts } from './disputes.ts'
import { loadOrCreateKey } from './keystore.ts'
import { lockHome } from './lock.ts'
import { startNetwork, type NetworkNode } from './network.ts'
import { createNodeKey } from './nodeKey.ts'
import { peerIdBytes } from './peerId.ts'
import { jobSpecFor, requesterPost, verifyModel, type ModelCheck, type PostJobParams } from './roles/requester.ts'
import { considerJob, onDisputeOpened, onPinpointed, onRecordsQueried, onValuesRequested, reannounceTraces, resumeTrainer, retrySkipped, trainJob, tryFinalize } from './roles/trainer.ts'
import { challengePinpoint, onOwnDisputeOpened, onResultSubmitted, resumeValidator } from './roles/validator.ts'
import { NodeState } from './state.ts'
import { createWatcher, type WatchedEvent } from './watcher.ts'

export { NodeError, type DisputeReport, type NodeOptions, type Role, type Timings } from './context.ts'
export { jobSpecFor, type ModelCheck, type PostJobParams } from './roles/requester.ts'
export { peerIdBytes } from './peerId.ts'
export { NodeLockedError } from './lock.ts'
export { DEFAULT_CHECK_PROBABILITY, stepsToCheck } from './roles/validator.ts'

/**
 * A Commons node: an Ethereum key and a libp2p peer, a blockstore shared over bitswap,
 * a SQLite memory, and roles. It follows the chain (market and dispute game events)
 * and the gossip topics, and acts:
 *   requester  posts jobs, fetches the finished model by CID and verifies it
 *   trainer    claims jobs whose terms it checked and that it can afford, trains,
 *              publishes the run, submits, defends (roles/trainer.ts)
 *   validator  replays S_0 and the steps drawn for it, attests or disputes and plays
 *              it through (roles/validator.ts)
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
  /** Disputes this node took part in, as they ended. */
  reports: DisputeReport[]
  timings: Timings
  /** Requester: posts a training job for a dataset version in this node's store. */
  postJob(params: PostJobParams): Promise<bigint>
  /** The terms such a job would have (for a DAO to fund it through a proposal). */
  jobSpec(params: PostJobParams): Promise<JobSpec>
  /** Requester: fetches the run of a finished job by CID and checks it against the chain. */
  verifyModel(jobId: bigint): Promise<ModelCheck>
  /** Waits until every queued event and the long work they started are done. */
  idle(): Promise<void>
  stop(): Promise<void>
}

type Handler = () => Promise<void>

/** Starts a node under `options.home`: key, store, network, chain watch, API. */
export async function startNode (options: NodeOptions): Promise<CommonsNode> {
  const log = options.log ?? (() => {})
  await mkdir(join(options.home, 'node'), { recursive: true })
  // Two nodes on one home would spend from one key and write one state: refused.
  const lock = await lockHome(join(options.home, 'node', 'node.lock'))
  let started = false
  const cleanups: Array<() => Promise<void>> = [async () => lock.release()]
  try {
    const node = await startLocked(options, log, cleanups)
    started = true
    return node
  } finally {
    if (!started) for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  }
}

async function startLocked (options: NodeOptions, log: (line: string) => void, cleanups: Array<() => Promise<void>>): Promise<CommonsNode> {
  const { privateKey } = await loadOrCreateKey(join(options.home, 'node', 'keystore.json'), { password: options.password, scryptN: options.scryptN })
  const peerKeyPath = join(options.home, 'node', 'peer.key')
  const peerKey = await readFile(peerKeyPath).then(b => new Uint8Array(b), async () => {
    const key = await createNodeKey()
    await writeFileAtomic(peerKeyPath, Buffer.from(key), { mode: 0o600 })
    return key
  })
  const clients = await connect(options.rpcUrl, privateKey)
  if ((options.deployment.block as string | undefined) === undefined) {
    // An older manifest: every log query starts at the deployment block, so find it.
    const block = await findDeploymentBlock(clients, options.deployment.contracts.market)
    log(`the deployment manifest names no deployment block; found ${block} (add "block": "${block}" to deployment.json)`)
    options = { ...options, deployment: { ...options.deployment, block: String(block) } }
  }
  const store = await openStore(options.home)
  cleanups.push(async () => store.close())
  const network = await startNetwork({ blockstore: store.blocks, privateKey: peerKey, listen: options.listen, bootstrap: options.bootstrap })
  cleanups.push(async () => network.stop())
  const state = new NodeState(join(options.home, 'node', 'state.db'))
  cleanups.push(async () => { state.close() })

  // Chain events, handled one at a time in order.
  const queue: Handler[] = []
  let running: Promise<void> | null = null
  let stopped = false
  const drain = async (): Promise<void> => {
    while (queue.length > 0 && !stopped) {
      const handler = queue.shift() as Handler
      try {
        await handler()
      } catch (error) {
        log(`error: ${(error as Error).message}`)
      }
    }
    running = null
  }
  const enqueue = (handler: Handler): void => {
    if (stopped) return
    queue.push(handler)
    running ??= drain()
  }

  const ctx: Context = {
    options, engine: options.engine ?? referenceContext(), clients, store, network, state, log, policy: { ...DEFAULT_JOB_POLICY, ...options.policy },
    traces: new Map(), challengers: new Map(), defenders: new Map(), inputs: new Map(), reports: [],
    timings: { training: 0, verification: 0, transfer: 0, chain: 0 },
    work: { training: null, checking: null }, enqueue, stopped: () => stopped
  }

  const unsubscribers = [
    network.subscribe(TOPICS.checkpoints, (message, from) => {
      // Kept by announcing peer: the challenger uses only the trainer's own (roles/validator.ts).
      const m = message as { kind?: string, disputeId?: string, cid?: string }
      if (m.kind !== 'trace' || typeof m.disputeId !== 'string' || typeof m.cid !== 'string' || from === '') return
      const byPeer = ctx.traces.get(m.disputeId) ?? new Map<string, string>()
      byPeer.set(from, m.cid)
      ctx.traces.set(m.disputeId, byPeer)
    }),
    // A job or a result announced by a peer: look at the chain now rather than at the next tick.
    network.subscribe(TOPICS.jobs, () => { wake() }),
    network.subscribe(TOPICS.results, () => { wake() })
  ]

  const game = options.deployment.contracts.disputeGame.toLowerCase()
  const handle = (event: WatchedEvent): void => {
    // The market and the game both name events DisputeOpened and DisputeResolved: the game's are the disputes.
    if ((event.eventName === 'DisputeOpened' || event.eventName === 'DisputeResolved') && event.address.toLowerCase() !== game) return
    const args = event.args as Record<string, unknown>
    switch (event.eventName) {
      case 'JobPosted': {
        const jobId = args.jobId as bigint
        if (state.job(jobId, 'seen') === undefined) state.setJob(jobId, 'seen', 'posted', { block: String(event.blockNumber) })
        enqueue(async () => considerJob(ctx, jobId))
        break
      }
      case 'ResultSubmitted': { const jobId = args.jobId as bigint; const hash = event.blockHash; enqueue(async () => { onResultSubmitted(ctx, jobId, hash) }); break }
      case 'DisputeOpened': {
        const { id, jobId, step, challenger } = args as { id: bigint, jobId: bigint, step: number, challenger: string }
        enqueue(async () => onDisputeOpened(ctx, id, jobId, step))
        if (challenger.toLowerCase() === clients.account.address.toLowerCase()) enqueue(async () => onOwnDisputeOpened(ctx, id, jobId, step))
        break
      }
      case 'OpTracePosted': { const id = args.id as bigint; enqueue(async () => challengePinpoint(ctx, id)); break }
      case 'Pinpointed': { const id = args.id as bigint; enqueue(async () => onPinpointed(ctx, id)); break }
      case 'ValuesRequested': { const id = args.id as bigint; enqueue(async () => onValuesRequested(ctx, id)); break }
      case 'ValuesProvided': { const id = args.id as bigint; enqueue(async () => challengePinpoint(ctx, id)); break }
      case 'RecordsQueried': { const { id, jobId } = args as { id: bigint, jobId: bigint }; enqueue(async () => onRecordsQueried(ctx, id, jobId)); break }
      case 'DisputeResolved': { const { id, jobId } = args as { id: bigint, jobId: bigint }; enqueue(async () => recordOutcome(ctx, id, jobId)); break }
    }
  }

  // Events already handled before a restart are not handled again; none is older than the deployment.
  const handledKey = `lastBlock:${options.deployment.contracts.market}`
  const handled = state.meta(handledKey)
  const watcher = createWatcher({
    clients,
    addresses: [options.deployment.contracts.market, options.deployment.contracts.disputeGame],
    abi: [...trainingMarketAbi, ...disputeGameAbi] as Abi,
    fromBlock: handled === undefined ? BigInt(options.deployment.block) : BigInt(handled) + 1n,
    range: BigInt(options.logRange ?? 1000),
    confirmations: BigInt(options.confirmations ?? 0),
    async onEvents (events, toBlock) {
      for (const event of events) handle(event)
      // Marked handled once queued behind this window: they run before the next look does.
      enqueue(async () => { state.setMeta(handledKey, String(toBlock)) })
    }
  })

  // Timed work (finalizing, timeouts) depends on the chain's clock, which moves with
  // its blocks: it is looked at when blocks came, and at least every 15 s.
  let lastChores = 0
  let lastAnnounce = 0
  const tick = (): void => {
    if (stopped) return
    if (Date.now() - lastAnnounce > 2_000) {
      lastAnnounce = Date.now()
      reannounceTraces(ctx)
    }
    enqueue(async () => {
      const fresh = await watcher.poll()
      if (fresh || Date.now() - lastChores > 15_000) {
        lastChores = Date.now()
        await tryFinalize(ctx)
        await tryTimeouts(ctx)
        if (fresh) retrySkipped(ctx)
      }
    })
  }
  function wake (): void {
    if (queue.length === 0) tick()
  }
  const timer = setInterval(tick, options.pollMs ?? 1000)

  // A trainer that restarts mid-run carries on from its last checkpoint, off the queue.
  const unfinished = state.runs().filter(r => r.status === 'training')
  if (unfinished.length > 0) {
    const run = unfinished[0]
    log(`job ${run.jobId}: resuming the run from its last checkpoint`)
    ctx.work.training = trainJob(ctx, BigInt(run.jobId)).catch((error: unknown) => { log(`job ${run.jobId}: ${(error as Error).message}`) })
      .finally(() => { ctx.work.training = null; retrySkipped(ctx) })
  }

  // A node that restarts takes its disputes (both sides) and cut-short checks up again.
  enqueue(async () => resumeTrainer(ctx))
  enqueue(async () => resumeValidator(ctx))

  await ensureRegistered(ctx, options.stake).catch((error: unknown) => { log(`could not register in the StakeRegistry: ${(error as Error).message}`) })

  const status = (): Record<string, unknown> => ({
    address: clients.account.address, peerId: network.peerId, roles: options.roles, multiaddrs: network.multiaddrs(),
    peers: network.peers(), rpcUrl: options.rpcUrl, contracts: options.deployment.contracts
  })
  const api = options.apiPort === false ? null : await startApi(state, status, options.apiPort ?? 0)
  cleanups.push(async () => api?.close())
  log(`node ${clients.account.address} (${options.roles.join(', ')}) peer ${network.peerId}${api === null ? '' : `, API ${api.url}`}`)
  tick()

  const settle = async (): Promise<void> => {
    for (;;) {
      const pending = [running, ctx.work.training, ctx.work.checking].filter(p => p !== null)
      if (pending.length === 0) return
      await Promise.all(pending)
    }
  }

  return {
    address: clients.account.address,
    peerId: network.peerId,
    clients,
    network,
    store,
    state,
    api,
    reports: ctx.reports,
    timings: ctx.timings,
    postJob: async params => requesterPost(ctx, params),
    jobSpec: async params => jobSpecFor(ctx.engine, ctx.store, params),
    verifyModel: async jobId => verifyModel(ctx, jobId),
    idle: settle,
    async stop () {
      stopped = true
      clearInterval(timer)
      await settle()
      for (const unsubscribe of unsubscribers) unsubscribe()
      await api?.close()
      await network.stop()
      state.close()
      await store.close()
      await cleanups[0]()
    }
  }
}

/**
 * Registers the node's peer id and roles in the StakeRegistry when they are not there
 * yet (or changed), and tops its stake up to `stake`; skipped, with a note, while the
 * account has no gas money. The registered peer id is what lets challengers tell this
 * trainer's own trace announcements from forged ones.
 */
async function ensureRegistered (ctx: Context, stake?: bigint): Promise<void> {
  const { clients, options } = ctx
  const me = clients.account.address
  if (await clients.public.getBalance({ address: me }) === 0n) {
    ctx.log(`not registered in the StakeRegistry yet: ${me} has no ETH for gas`)
    return
  }
  const record = await readStake(clients, options.deployment, me)
  const peerId: Hex = peerIdBytes(ctx.network.peerId)
  const roles = roleBits(options.roles.filter((r): r is RoleName => r in ROLES))
  if (record.peerId.toLowerCase() !== peerId.toLowerCase() || record.roles !== roles) {
    await send(clients, { address: options.deployment.contracts.registry, abi: stakeRegistryAbi, functionName: 'register', args: [peerId, roles] })
    ctx.log(`registered peer ${ctx.network.peerId} with roles ${options.roles.join(', ')}`)
  }
  if (stake !== undefined && record.staked < stake) {
    const more = stake - record.staked
    await send(clients, { address: options.deployment.contracts.token, abi: commonsTokenAbi, functionName: 'approve', args: [options.deployment.contracts.registry, more] })
    await send(clients, { address: options.deployment.contracts.registry, abi: stakeRegistryAbi, functionName: 'stake', args: [more] })
    ctx.log(`staked ${more} more (now ${stake})`)
  }
}
