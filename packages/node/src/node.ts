import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { type Address, type Hex } from 'viem'
import writeFileAtomic from 'write-file-atomic'
import { BaseError } from '@commons/errors'
import {
  checkpointSteps, compileProgram, decodeSafetensors, readRecords, loadCheckpoint, parseRecipe, readSafetensors, recordHash, replay, runStateAt,
  stateRootOf, tensorRoot, toHex, tokensRootOf, train, transcriptRoot, writeSafetensors,
  type Recipe, type RunFault, type Tensor
} from '@commons/engine'
import {
  Challenger, claimJob, connect, Defender, disputeGameAbi, finalizeJob, hexToCid, INIT_STEP, postJob, readDispute, readJob, readStake,
  commonsTokenAbi, roleBits, ROLES, send, stakeRegistryAbi, submitResult, trainingMarketAbi, attestJob, type RoleName, type Clients, type Deployment, type DisputeOutcome, type JobSpec, type Move
} from '@commons/chain'
import { commitVersion, exportVersion, getVerifiedBlock, initDataset, openStore, tokenizeVersion, type Store } from '@commons/store'
import { startApi, type ApiServer } from './api.ts'
import { TOPICS } from './constants.ts'
import { resolveFault, type FaultSpec } from './faults.ts'
import { loadOrCreateKey } from './keystore.ts'
import { startNetwork, type NetworkNode } from './network.ts'
import { createNodeKey } from './nodeKey.ts'
import { NodeState } from './state.ts'

/**
 * A Commons node: an Ethereum key and a libp2p peer, a blockstore shared over bitswap,
 * a SQLite memory, and roles. It follows the chain (market and dispute game events)
 * and the gossip topics, and acts:
 *   requester  posts jobs, fetches the finished model by CID and verifies it
 *   trainer    claims jobs it can afford, trains, publishes the run, submits, defends
 *   validator  replays the steps drawn for it, attests or disputes and plays it through
 * Events are handled one at a time, in chain order, so a node's actions never race
 * each other.
 */

export class NodeError extends BaseError {
  override name = 'NodeError'
}

export type Role = 'requester' | 'trainer' | 'validator' | 'curator'

export interface NodeOptions {
  home: string
  rpcUrl: string
  deployment: Deployment
  roles: Role[]
  /** Keystore password (default $COMMONS_PASSWORD) and scrypt cost (tests lower it). */
  password?: string
  scryptN?: number
  listen?: string[]
  bootstrap?: string[]
  /** Port of the HTTP API on loopback; 0 picks one, false starts none. */
  apiPort?: number | false
  /** Trainer: corrupt a value on purpose (to exercise the network's defences). */
  fault?: FaultSpec
  /** Validator: how many steps of each result it replays (all when at least the steps). */
  checkSteps?: number
  /** Milliseconds between looks at the chain. */
  pollMs?: number
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

interface Context {
  options: NodeOptions
  clients: Clients
  store: Store
  network: NetworkNode
  state: NodeState
  log: (line: string) => void
  /** Op trace CIDs announced by trainers, by dispute id. */
  traces: Map<string, string>
  /** Validator side of open disputes. */
  challengers: Map<string, { challenger: Challenger, step: number, moves: Move[], open: Move }>
  /** Trainer side: what defends each job's run. */
  defenders: Map<string, Defender>
  reports: DisputeReport[]
  timings: Timings
}

/** Milliseconds a node spent, by kind of work (for the network benchmark). */
export interface Timings {
  training: number
  verification: number
  transfer: number
  chain: number
}

async function timed<T> (ctx: Context, kind: keyof Timings, work: () => Promise<T>): Promise<T> {
  const started = performance.now()
  try {
    return await work()
  } finally {
    ctx.timings[kind] += performance.now() - started
  }
}

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
  /** Waits until every queued event is handled. */
  idle(): Promise<void>
  stop(): Promise<void>
}

export interface PostJobParams {
  datasetCid: string
  recipe: Recipe
  reward: bigint
  jobStake: bigint
  trainingTime?: bigint
  challengeWindow?: bigint
}

export interface ModelCheck {
  jobId: bigint
  runCid: string
  dir: string
  verified: boolean
  problems: string[]
}

// ---------------------------------------------------------------- content by CID

/** Stores bytes as one raw block; returns its CID (what a recipe is referenced by). */
async function putRaw (store: Store, bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(raw.code, await sha256.digest(bytes))
  await store.blocks.put(cid, bytes)
  return cid
}

async function getRaw (ctx: Context, cid: CID): Promise<Uint8Array> {
  await timed(ctx, 'transfer', async () => ctx.network.fetchDag(cid, { timeoutMs: 60_000 }))
  return getVerifiedBlock(ctx.store.blocks, cid)
}

/** Commits a directory as the next version of a named dataset of this node's store. */
async function publishDir (store: Store, name: string, dir: string, message: string): Promise<string> {
  await initDataset(store, name).catch(() => {})
  const { cid } = await commitVersion(store, { name, path: dir, message, author: 'commons-node', time: 0 })
  return cid.toString()
}

/** Fetches a version by CID over the network and exports it into `dir`. */
async function fetchVersion (ctx: Context, cid: string, dir: string): Promise<void> {
  await timed(ctx, 'transfer', async () => {
    await ctx.network.fetchDag(cid, { timeoutMs: 120_000 })
    await rm(dir, { recursive: true, force: true })
    await exportVersion(ctx.store, cid, dir)
  })
}

async function jobInputs (ctx: Context, jobId: bigint): Promise<{ recipe: Recipe, tokens: Int32Array, job: Awaited<ReturnType<typeof readJob>> }> {
  const job = await readJob(ctx.clients, ctx.options.deployment, jobId)
  const recipeCid = hexToCid(job.spec.recipeCid)
  const datasetCid = hexToCid(job.spec.datasetCid)
  if (recipeCid === null || datasetCid === null) throw new NodeError(`job ${jobId} names an invalid recipe or dataset CID`)
  const recipe = parseRecipe(JSON.parse(Buffer.from(await getRaw(ctx, recipeCid)).toString('utf8')), `recipe ${recipeCid}`)
  await timed(ctx, 'transfer', async () => ctx.network.fetchDag(datasetCid, { timeoutMs: 120_000 }))
  const { tokens } = await tokenizeVersion(ctx.store, datasetCid.toString(), recipe.tokenizer)
  if (tokensRootOf(tokens) !== job.spec.tokensRoot) throw new NodeError(`job ${jobId}: the dataset's tokens root does not match the job's`)
  return { recipe, tokens, job }
}

// ---------------------------------------------------------------- trainer

async function onJobPosted (ctx: Context, jobId: bigint): Promise<void> {
  if (!ctx.options.roles.includes('trainer')) return
  const busy = ctx.state.runs().some(r => r.status === 'training')
  const job = await readJob(ctx.clients, ctx.options.deployment, jobId)
  if (busy || job.statusName !== 'open') return
  const stake = await readStake(ctx.clients, ctx.options.deployment, ctx.clients.account.address)
  if (stake.staked - stake.locked < job.spec.jobStake) {
    ctx.log(`job ${jobId}: stake too small to claim (${stake.staked - stake.locked} free, ${job.spec.jobStake} needed)`)
    return
  }
  try {
    await timed(ctx, 'chain', async () => claimJob(ctx.clients, ctx.options.deployment, jobId))
  } catch (error) {
    const now = await readJob(ctx.clients, ctx.options.deployment, jobId)
    ctx.log(`job ${jobId}: not claimed (${now.statusName === 'open' ? (error as Error).message : 'another trainer was first'})`)
    return
  }
  ctx.log(`job ${jobId}: claimed`)
  await trainJob(ctx, jobId)
}

/** Trains a claimed job (resuming its run if the node restarted), publishes it and submits. */
async function trainJob (ctx: Context, jobId: bigint): Promise<void> {
  const { recipe, tokens } = await jobInputs(ctx, jobId)
  const dir = join(ctx.options.home, 'runs', `job-${jobId}`)
  const known = ctx.state.run(jobId)
  const fault = ctx.options.fault === undefined ? undefined : (known?.status === 'training' && ctx.state.job(jobId, 'trainer')?.detail.fault !== undefined ? ctx.state.job(jobId, 'trainer')?.detail.fault as RunFault : resolveFault(ctx.options.fault, recipe, tokens))
  ctx.state.setJob(jobId, 'trainer', 'training', fault === undefined ? {} : { fault })
  ctx.state.setRun({ jobId: String(jobId), dir, status: 'training', step: 0, runCid: null })
  const resume = known !== undefined && (await readFile(join(dir, 'run.json')).then(() => true, () => false))
  if (fault !== undefined) ctx.log(`job ${jobId}: training with a deliberate fault ${JSON.stringify(fault)}`)
  const result = await timed(ctx, 'training', async () => train({
    recipe, tokens, data: { source: `job ${jobId}` }, out: dir, resume, fault,
    onStep: p => {
      ctx.state.setRun({ jobId: String(jobId), dir, status: 'training', step: p.step, runCid: null })
      if (p.step % Math.max(1, Math.floor(p.steps / 4)) === 0 || p.step === p.steps) ctx.log(`job ${jobId}: step ${p.step}/${p.steps} loss ${p.loss.toFixed(3)}`)
    }
  }))
  const runCid = await publishDir(ctx.store, `run-${jobId}`, dir, `run of job ${jobId}`)
  ctx.state.setRun({ jobId: String(jobId), dir, status: 'published', step: result.steps, runCid })
  await ctx.network.publish(TOPICS.checkpoints, { kind: 'run', jobId: String(jobId), runCid, checkpoints: await checkpointSteps(dir) })
  await ctx.network.publish(TOPICS.results, { jobId: String(jobId), runCid })
  await timed(ctx, 'chain', async () => submitResult(ctx.clients, ctx.options.deployment, { jobId, modelCid: runCid, transcriptRoot: result.transcriptRoot, steps: result.steps }))
  ctx.state.setJob(jobId, 'trainer', 'submitted', { runCid, transcriptRoot: result.transcriptRoot })
  ctx.state.setRun({ jobId: String(jobId), dir, status: 'submitted', step: result.steps, runCid })
  ctx.log(`job ${jobId}: submitted run ${runCid}`)
}

function defenderFor (ctx: Context, jobId: bigint, recipe: Recipe, tokens: Int32Array): Defender {
  const key = String(jobId)
  const known = ctx.defenders.get(key)
  if (known !== undefined) return known
  const dir = join(ctx.options.home, 'runs', `job-${jobId}`)
  const fault = ctx.state.job(jobId, 'trainer')?.detail.fault as RunFault | undefined
  const defender = new Defender(ctx.clients, ctx.options.deployment, { recipe, tokens, fault, stateAt: async step => runStateAt(dir, tokens, step, fault) })
  ctx.defenders.set(key, defender)
  return defender
}

/** A dispute against this trainer: publish the step's op trace, then post its roots. */
async function defendTrace (ctx: Context, id: bigint, jobId: bigint, step: number): Promise<void> {
  const { recipe, tokens } = await jobInputs(ctx, jobId)
  const defender = defenderFor(ctx, jobId, recipe, tokens)
  const outputs = await defender.trace(step)
  const dir = join(ctx.options.home, 'disputes', `dispute-${id}`)
  await mkdir(dir, { recursive: true })
  await writeSafetensors(join(dir, 'trace.safetensors'), outputs.map((t, i): [string, Tensor] => [`op-${String(i).padStart(5, '0')}`, t]), { step: String(step), dispute: String(id) })
  const traceCid = await publishDir(ctx.store, `dispute-${id}`, dir, `op trace of step ${step} for dispute ${id}`)
  ctx.traces.set(String(id), traceCid)
  await ctx.network.publish(TOPICS.checkpoints, { kind: 'trace', disputeId: String(id), cid: traceCid })
  const move = await timed(ctx, 'chain', async () => defender.postOpTrace(id))
  ctx.state.setDispute(id, jobId, 'trainer', 'traced', { step, traceCid, postOpTraceGas: move.gas })
  ctx.log(`dispute ${id}: posted the op trace of step ${step === INIT_STEP ? 'init' : step} (${move.gas} gas)`)
}

async function defendReveal (ctx: Context, id: bigint, jobId: bigint): Promise<void> {
  const defender = ctx.defenders.get(String(jobId)) ?? (await (async () => {
    const { recipe, tokens } = await jobInputs(ctx, jobId)
    return defenderFor(ctx, jobId, recipe, tokens)
  })())
  const move = await timed(ctx, 'chain', async () => defender.reveal(id))
  ctx.state.setDispute(id, jobId, 'trainer', 'revealed', { revealGas: move.gas })
  ctx.log(`dispute ${id}: revealed the element (${move.gas} gas)`)
}

/** Pays a submitted job out once its window has passed (the contract says when). */
async function tryFinalize (ctx: Context): Promise<void> {
  for (const row of ctx.state.jobs().filter(j => j.status === 'submitted' && (j.role === 'trainer' || j.role === 'requester'))) {
    const job = await readJob(ctx.clients, ctx.options.deployment, BigInt(row.jobId))
    if (job.statusName !== 'submitted') {
      ctx.state.setJob(row.jobId, row.role, job.statusName)
      continue
    }
    if (job.openDisputes > 0) continue
    try {
      await timed(ctx, 'chain', async () => finalizeJob(ctx.clients, ctx.options.deployment, BigInt(row.jobId)))
      ctx.state.setJob(row.jobId, row.role, 'finalized')
      ctx.log(`job ${row.jobId}: finalized`)
    } catch {}
  }
}

/**
 * Ends this node's disputes whose other side missed its deadline: a challenger wins
 * when the trainer posts no trace or opens no element, a trainer when the challenger
 * names none.
 */
async function tryTimeouts (ctx: Context): Promise<void> {
  const open = ctx.state.disputes().filter(d => !d.status.startsWith('resolved'))
  if (open.length === 0) return
  const now = (await ctx.clients.public.getBlock()).timestamp
  for (const row of open) {
    const d = await readDispute(ctx.clients, ctx.options.deployment, BigInt(row.id))
    if (d.resolved || now <= d.deadline) continue
    const theirMove = row.role === 'challenger' ? d.phase === 1 || d.phase === 3 : d.phase === 2
    if (!theirMove) continue
    await timed(ctx, 'chain', async () => send(ctx.clients, { address: ctx.options.deployment.contracts.disputeGame, abi: disputeGameAbi, functionName: 'timeout', args: [BigInt(row.id)] }))
    ctx.log(`dispute ${row.id}: the other side missed its deadline; ended by timeout`)
  }
}

// ---------------------------------------------------------------- validator

/** Steps to replay, drawn from the submission's block hash (unknown to the trainer before). */
function drawSteps (blockHash: Hex, validator: Address, steps: number, count: number): number[] {
  if (count >= steps) return [...Array(steps).keys()]
  const drawn = new Set<number>()
  for (let i = 0; drawn.size < count; i++) {
    const word = BigInt(blockHash) ^ (BigInt(validator) << BigInt(i % 64))
    drawn.add(Number((word * 0x9e3779b97f4a7c15n + BigInt(i)) % BigInt(steps)))
  }
  return [...drawn].sort((a, b) => a - b)
}

async function onResultSubmitted (ctx: Context, jobId: bigint, blockHash: Hex): Promise<void> {
  if (!ctx.options.roles.includes('validator')) return
  const { recipe, tokens, job } = await jobInputs(ctx, jobId)
  if (job.trainer.toLowerCase() === ctx.clients.account.address.toLowerCase()) return
  const runCid = hexToCid(job.modelCid)
  if (runCid === null) throw new NodeError(`job ${jobId}: the result names no valid run CID`)
  const dir = join(ctx.options.home, 'validate', `job-${jobId}`)
  await fetchVersion(ctx, runCid.toString(), dir)
  const records = await readRecords(dir)
  const root = toHex(transcriptRoot(records.map(r => recordHash(Buffer.from(r.state.slice(2), 'hex'), r.loss))))
  if (root !== job.transcriptRoot) throw new NodeError(`job ${jobId}: the published transcript does not hash to the submitted root`)
  const program = compileProgram(recipe)
  const challenger = new Challenger(ctx.clients, ctx.options.deployment, { jobId, recipe, tokens, program, records })
  ctx.state.setJob(jobId, 'validator', 'checking', { runCid: runCid.toString() })
  // S_0 first: anyone can compute it.
  if (!(await timed(ctx, 'verification', async () => challenger.check(INIT_STEP).agrees))) {
    await openDispute(ctx, challenger, jobId, INIT_STEP)
    return
  }
  const checkpoints = await checkpointSteps(dir)
  for (const step of drawSteps(blockHash, ctx.clients.account.address, recipe.steps, ctx.options.checkSteps ?? 2)) {
    // From the checkpoint before the step, every state up to S_{t+1}: the first that
    // differs names the step to dispute, with a state before it the transcript commits to.
    const from = checkpoints.filter(c => c <= step).pop() ?? 0
    const result = await timed(ctx, 'verification', async () => replay(dir, tokens, { from, steps: step + 1 - from }))
    if (result.firstMismatch !== null) {
      const bad = result.firstMismatch.step - 1
      ctx.log(`job ${jobId}: step ${bad} does not replay to the committed state`)
      await openDispute(ctx, challenger, jobId, bad, await runStateAt(dir, tokens, bad))
      return
    }
  }
  await timed(ctx, 'chain', async () => attestJob(ctx.clients, ctx.options.deployment, jobId))
  ctx.state.setJob(jobId, 'validator', 'attested')
  ctx.log(`job ${jobId}: replayed the drawn steps, all agree: attested`)
}


async function openDispute (ctx: Context, challenger: Challenger, jobId: bigint, step: number, stateT?: Awaited<ReturnType<typeof runStateAt>>): Promise<void> {
  const { id, move } = await timed(ctx, 'chain', async () => challenger.open(step, stateT))
  ctx.challengers.set(String(id), { challenger, step, moves: [], open: move })
  ctx.state.setJob(jobId, 'validator', 'disputed', { dispute: String(id) })
  ctx.state.setDispute(id, jobId, 'challenger', 'opened', { step, openGas: move.gas })
  ctx.log(`dispute ${id}: opened over ${step === INIT_STEP ? 'the initial state' : `step ${step}`} of job ${jobId} (${move.gas} gas)`)
}

/** The trainer posted its trace: fetch its published outputs and name the faulty element. */
async function challengePinpoint (ctx: Context, id: bigint): Promise<void> {
  const mine = ctx.challengers.get(String(id))
  if (mine === undefined) return
  let traceCid = ctx.traces.get(String(id))
  for (let waited = 0; traceCid === undefined && waited < 60_000; waited += 200) {
    await new Promise(resolve => setTimeout(resolve, 200))
    traceCid = ctx.traces.get(String(id))
  }
  if (traceCid === undefined) throw new NodeError(`dispute ${id}: the trainer did not publish its op trace`, { hint: 'the challenge can still be won by timeout if it never reveals' })
  const dir = join(ctx.options.home, 'disputes', `dispute-${id}`)
  await fetchVersion(ctx, traceCid, dir)
  const { tensors } = decodeSafetensors(await readFile(join(dir, 'trace.safetensors')), traceCid)
  const move = await timed(ctx, 'chain', async () => mine.challenger.pinpoint(id, async op => {
    const t = tensors.get(`op-${String(op).padStart(5, '0')}`)
    if (t === undefined) throw new NodeError(`the published trace lacks op ${op}`)
    return t
  }))
  mine.moves.push(move)
  ctx.state.setDispute(id, (await readDispute(ctx.clients, ctx.options.deployment, id)).jobId, 'challenger', 'pinpointed', { op: move.op, element: move.element, pinpointGas: move.gas })
  ctx.log(`dispute ${id}: pinpointed op ${move.op}, element ${move.element} (${move.gas} gas)`)
}

// ---------------------------------------------------------------- requester

/**
 * The on-chain terms of a job on a dataset version of `store`: the recipe stored there
 * as a raw block (its CID is what the job names), the version's tokens root and the
 * recipe's program hash. A node serving that store lets trainers fetch both by CID.
 */
export async function jobSpecFor (store: Store, params: PostJobParams): Promise<JobSpec> {
  const recipeCid = await putRaw(store, new TextEncoder().encode(JSON.stringify(params.recipe)))
  const { tokens } = await tokenizeVersion(store, params.datasetCid, params.recipe.tokenizer)
  return {
    datasetCid: params.datasetCid, tokensRoot: tokensRootOf(tokens), recipeCid: recipeCid.toString(), programHash: compileProgram(params.recipe).hash,
    seed: BigInt(params.recipe.seed), steps: params.recipe.steps, reward: params.reward, jobStake: params.jobStake,
    trainingTime: params.trainingTime ?? 3600n, challengeWindow: params.challengeWindow ?? 3600n
  }
}

async function jobSpecOf (ctx: Context, params: PostJobParams): Promise<JobSpec> {
  return jobSpecFor(ctx.store, params)
}

async function requesterPost (ctx: Context, params: PostJobParams): Promise<bigint> {
  const spec = await jobSpecOf(ctx, params)
  const { jobId } = await timed(ctx, 'chain', async () => postJob(ctx.clients, ctx.options.deployment, spec))
  ctx.state.setJob(jobId, 'requester', 'posted', { datasetCid: params.datasetCid, recipeCid: spec.recipeCid, reward: params.reward })
  await ctx.network.publish(TOPICS.jobs, { jobId: String(jobId) })
  ctx.log(`job ${jobId}: posted (${params.recipe.name}, ${params.recipe.steps} steps, reward ${params.reward})`)
  return jobId
}

/**
 * The model of a finished job, checked: the published transcript hashes to the root on
 * chain, the final checkpoint has the transcript's last state root, and the model's
 * weights are that checkpoint's parameters, bit for bit.
 */
async function verifyModel (ctx: Context, jobId: bigint): Promise<ModelCheck> {
  const job = await readJob(ctx.clients, ctx.options.deployment, jobId)
  const runCid = hexToCid(job.modelCid)
  if (runCid === null) throw new NodeError(`job ${jobId} has no result yet`, { hint: 'wait for a trainer to submit' })
  const dir = join(ctx.options.home, 'models', `job-${jobId}`)
  await fetchVersion(ctx, runCid.toString(), dir)
  const problems: string[] = []
  const records = await readRecords(dir)
  const root = toHex(transcriptRoot(records.map(r => recordHash(Buffer.from(r.state.slice(2), 'hex'), r.loss))))
  if (root !== job.transcriptRoot) problems.push('the transcript does not hash to the root on chain')
  const { recipe } = await jobInputs(ctx, jobId)
  const last = records[records.length - 1]
  const final = await loadCheckpoint(dir, recipe, last.step).catch(() => null)
  if (final === null) problems.push(`no valid checkpoint of the final step ${last.step}`)
  else {
    if (toHex(stateRootOf(final)) !== last.state) problems.push('the final checkpoint is not the transcript\'s last state')
    const model = await readSafetensors(join(dir, 'model.safetensors'))
    const weights = [...model.tensors.values()]
    if (weights.length !== final.params.length || weights.some((t, i) => toHex(tensorRoot(t)) !== toHex(tensorRoot(final.params[i])))) problems.push('the model weights are not the final parameters')
  }
  const check = { jobId, runCid: runCid.toString(), dir, verified: problems.length === 0, problems }
  ctx.state.setJob(jobId, 'requester', job.statusName, { verified: check.verified, problems })
  return check
}

// ---------------------------------------------------------------- the node

type Handler = () => Promise<void>

/** Starts a node under `options.home`: key, store, network, chain watch, API. */
export async function startNode (options: NodeOptions): Promise<CommonsNode> {
  const log = options.log ?? (() => {})
  await mkdir(options.home, { recursive: true })
  const { privateKey } = await loadOrCreateKey(join(options.home, 'node', 'keystore.json'), { password: options.password, scryptN: options.scryptN })
  const peerKeyPath = join(options.home, 'node', 'peer.key')
  const peerKey = await readFile(peerKeyPath).then(b => new Uint8Array(b), async () => {
    const key = await createNodeKey()
    await writeFileAtomic(peerKeyPath, Buffer.from(key), { mode: 0o600 })
    return key
  })
  const clients = await connect(options.rpcUrl, privateKey)
  const store = await openStore(options.home)
  const network = await startNetwork({ blockstore: store.blocks, privateKey: peerKey, listen: options.listen, bootstrap: options.bootstrap })
  const state = new NodeState(join(options.home, 'node', 'state.db'))
  const ctx: Context = { options, clients, store, network, state, log, traces: new Map(), challengers: new Map(), defenders: new Map(), reports: [], timings: { training: 0, verification: 0, transfer: 0, chain: 0 } }

  const unsubscribers = [
    network.subscribe(TOPICS.checkpoints, message => {
      const m = message as { kind?: string, disputeId?: string, cid?: string }
      if (m.kind === 'trace' && typeof m.disputeId === 'string' && typeof m.cid === 'string') ctx.traces.set(m.disputeId, m.cid)
    }),
    // A job or a result announced by a peer: look at the chain now rather than at the next tick.
    network.subscribe(TOPICS.jobs, () => { wake() }),
    network.subscribe(TOPICS.results, () => { wake() })
  ]

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
    queue.push(handler)
    running ??= drain()
  }

  // Events already handled before a restart are not handled again.
  const handled = state.meta(`lastBlock:${options.deployment.contracts.market}`)
  let fromBlock = handled === undefined ? BigInt(options.deployment.block) : BigInt(handled) + 1n
  const me = clients.account.address.toLowerCase()
  const poll = async (): Promise<void> => {
    const latest = await clients.public.getBlockNumber()
    if (latest < fromBlock) return
    const [marketEvents, gameEvents] = await Promise.all([
      clients.public.getContractEvents({ address: options.deployment.contracts.market, abi: trainingMarketAbi, fromBlock, toBlock: latest }),
      clients.public.getContractEvents({ address: options.deployment.contracts.disputeGame, abi: disputeGameAbi, fromBlock, toBlock: latest })
    ])
    const events = [...marketEvents, ...gameEvents].sort((a, b) => Number(a.blockNumber - b.blockNumber) || a.logIndex - b.logIndex)
    const game = options.deployment.contracts.disputeGame.toLowerCase()
    for (const event of events) {
      // The market and the game both name events DisputeOpened and DisputeResolved: the game's are the disputes.
      if ((event.eventName === 'DisputeOpened' || event.eventName === 'DisputeResolved') && event.address.toLowerCase() !== game) continue
      switch (event.eventName) {
        case 'JobPosted': {
          const { jobId } = event.args as { jobId: bigint }
          if (state.job(jobId, 'seen') === undefined) state.setJob(jobId, 'seen', 'posted', { block: String(event.blockNumber) })
          enqueue(async () => onJobPosted(ctx, jobId))
          break
        }
        case 'ResultSubmitted': { const { jobId } = event.args as { jobId: bigint }; const hash = event.blockHash as Hex; enqueue(async () => onResultSubmitted(ctx, jobId, hash)); break }
        case 'DisputeOpened': {
          const { id, jobId, step } = event.args as { id: bigint, jobId: bigint, step: number }
          enqueue(async () => {
            const job = await readJob(clients, options.deployment, jobId)
            if (job.trainer.toLowerCase() === me) await defendTrace(ctx, id, jobId, step)
          })
          break
        }
        case 'OpTracePosted': { const { id } = event.args as { id: bigint }; enqueue(async () => challengePinpoint(ctx, id)); break }
        case 'Pinpointed': {
          const { id } = event.args as { id: bigint }
          enqueue(async () => {
            const d = await readDispute(clients, options.deployment, id)
            if (d.trainer.toLowerCase() === me) await defendReveal(ctx, id, d.jobId)
          })
          break
        }
        case 'DisputeResolved': {
          const { id, jobId } = event.args as { id: bigint, jobId: bigint }
          enqueue(async () => recordOutcome(ctx, id, jobId))
          break
        }
      }
    }
    // Marked handled once queued behind this poll: they run before the next poll does.
    enqueue(async () => { state.setMeta(`lastBlock:${options.deployment.contracts.market}`, String(latest)) })
    fromBlock = latest + 1n
  }
  const tick = (): void => {
    if (stopped) return
    enqueue(async () => { await poll(); await tryFinalize(ctx); await tryTimeouts(ctx) })
  }
  function wake (): void {
    if (queue.length === 0) tick()
  }
  const timer = setInterval(tick, options.pollMs ?? 500)

  // A trainer that restarts mid-run carries on from its last checkpoint.
  for (const run of state.runs().filter(r => r.status === 'training')) {
    log(`job ${run.jobId}: resuming the run from its last checkpoint`)
    enqueue(async () => trainJob(ctx, BigInt(run.jobId)))
  }

  await ensureRegistered(ctx, options.stake).catch((error: unknown) => { log(`could not register in the StakeRegistry: ${(error as Error).message}`) })

  const status = (): Record<string, unknown> => ({
    address: clients.account.address, peerId: network.peerId, roles: options.roles, multiaddrs: network.multiaddrs(),
    peers: network.peers(), rpcUrl: options.rpcUrl, contracts: options.deployment.contracts
  })
  const api = options.apiPort === false ? null : await startApi(state, status, options.apiPort ?? 0)
  log(`node ${clients.account.address} (${options.roles.join(', ')}) peer ${network.peerId}${api === null ? '' : `, API ${api.url}`}`)

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
    jobSpec: async params => jobSpecOf(ctx, params),
    verifyModel: async jobId => verifyModel(ctx, jobId),
    async idle () {
      while (running !== null) await running
    },
    async stop () {
      stopped = true
      clearInterval(timer)
      while (running !== null) await running
      for (const unsubscribe of unsubscribers) unsubscribe()
      await api?.close()
      await network.stop()
      state.close()
      await store.close()
    }
  }
}

/** A peer id as the StakeRegistry keeps it: its multihash bytes. */
export function peerIdBytes (peerId: string): Hex {
  return `0x${Buffer.from(peerIdFromString(peerId).toMultihash().bytes).toString('hex')}`
}

/**
 * Registers the node's peer id and roles in the StakeRegistry when they are not there
 * yet (or changed), and tops its stake up to `stake`; skipped, with a note, while the
 * account has no gas money.
 */
async function ensureRegistered (ctx: Context, stake?: bigint): Promise<void> {
  const { clients, options } = ctx
  const me = clients.account.address
  if (await clients.public.getBalance({ address: me }) === 0n) {
    ctx.log(`not registered in the StakeRegistry yet: ${me} has no ETH for gas`)
    return
  }
  const record = await readStake(clients, options.deployment, me)
  const peerId = peerIdBytes(ctx.network.peerId)
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

/** A dispute ended: keep the report (moves and gas) for summaries. */
async function recordOutcome (ctx: Context, id: bigint, jobId: bigint): Promise<void> {
  const d = await readDispute(ctx.clients, ctx.options.deployment, id)
  const mine = ctx.challengers.get(String(id))
  const me = ctx.clients.account.address.toLowerCase()
  const role = mine !== undefined ? 'challenger' : d.trainer.toLowerCase() === me ? 'trainer' : null
  if (role === null) return
  const winner = d.winner ?? undefined
  ctx.state.setDispute(id, jobId, role, `resolved: ${winner ?? 'unknown'} won`, { winner, reason: d.reasonName })
  if (role === 'challenger' && mine !== undefined) {
    const gameMoves = await movesOf(ctx, id)
    ctx.reports.push({ id, jobId, step: mine.step, role, winner, reason: d.reasonName, open: mine.open, moves: gameMoves })
  }
  ctx.log(`dispute ${id}: ${winner ?? 'nobody'} won (${d.reasonName})`)
}

/** The gas of every move of a dispute, from the receipts of its events. */
async function movesOf (ctx: Context, id: bigint): Promise<Move[]> {
  const names = { OpTracePosted: 'postOpTrace', Pinpointed: 'pinpoint', Revealed: 'reveal' } as const
  const moves: Move[] = []
  for (const eventName of Object.keys(names) as Array<keyof typeof names>) {
    const events = await ctx.clients.public.getContractEvents({ address: ctx.options.deployment.contracts.disputeGame, abi: disputeGameAbi, eventName, args: { id }, fromBlock: 0n } as never) as Array<{ transactionHash: Hex }>
    for (const event of events) {
      const receipt = await ctx.clients.public.getTransactionReceipt({ hash: event.transactionHash })
      moves.push({ name: names[eventName], gas: receipt.gasUsed })
    }
  }
  return moves
}
