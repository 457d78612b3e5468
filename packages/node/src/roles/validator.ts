import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodePacked, keccak256, type Address, type Hex } from 'viem'
import writeFileAtomic from 'write-file-atomic'
import { allEvents, attestJob, Challenger, disputableUntil, disputeGameAbi, forgetNonce, hexToCid, INIT_STEP, latestContractEvents, readDispute, readJob, readStake, receiptTimeoutMs, trainingMarketAbi } from '@commons/chain'
import { recordOutcome } from '../disputes.ts'
import { transcriptRootOf } from '@commons/protocol'
import { checkpointSteps, compileProgram, decodeSafetensors, modelFileTemplate, readRecords, readRunInfo, replay, runStateAt, type Tensor } from '@commons/engine'
import { DEFAULT_CHECK_PROBABILITY, DEFAULT_LOG_RANGE, DEFAULT_TRACE_WAIT_MS } from '../constants.ts'
import { jobInputs, fetchVersion } from '../content.ts'
import { notHadInTime } from '../errors.ts'
import { isRole, NodeError, offQueue, timed, type Context, type Service } from '../context.ts'
import { PHASE, playMove } from '../moves.ts'
import { peerIdBytes } from '../peerId.ts'
import { checkModelFile } from '../modelFileCheck.ts'
import { checkWithheld, firstWindowToEnd, QueryHeldError, resumeWithheld } from '../checkWithheld.ts'
import { heldSendOf, lookAtHeldSend, type HeldSend } from '../heldSends.ts'

/**
 * The validator: fetches each submitted run, checks S_0 and the steps drawn for it by
 * replaying them, and attests or opens a dispute and plays it through. Replays run off
 * the event queue, one result at a time, so dispute moves are never held up by them.
 */

/** How many steps of `steps` to replay so that a lie in any one step is drawn with `probability`. */
export function stepsToCheck (steps: number, options: { checkSteps?: number | 'all', checkProbability?: number }): number {
  if (options.checkSteps === 'all') return steps
  if (options.checkSteps !== undefined) return Math.min(steps, options.checkSteps)
  const p = options.checkProbability ?? DEFAULT_CHECK_PROBABILITY
  // Distinct steps drawn uniformly: a given step is among k of T with probability k / T.
  return Math.min(steps, Math.max(1, Math.ceil(p * steps)))
}

/** Steps to replay, drawn from the submission's block hash (unknown to the trainer before). */
export function drawSteps (blockHash: Hex, validator: Address, steps: number, count: number): number[] {
  if (count >= steps) return [...Array(steps).keys()]
  // keccak256(blockHash, validator, i) mod T: uniform (a 256-bit word, T < 2^32), and
  // different for each validator, so validators together cover more steps.
  const drawn = new Set<number>()
  for (let i = 0; drawn.size < count; i++) {
    drawn.add(Number(BigInt(keccak256(encodePacked(['bytes32', 'address', 'uint256'], [blockHash, validator, BigInt(i)]))) % BigInt(steps)))
  }
  return [...drawn].sort((a, b) => a - b)
}

/** What a validator has done with a result: checking it, or one of the ends. */
const ENDED = new Set(['attested', 'disputed', 'passed'])

/**
 * A result submitted: checked off the queue, after any check in flight. It is recorded as
 * being checked at once, so a node stopped or killed before the check ends (fetches and
 * replays take long) checks it again after its next start (resumeValidator). A check whose
 * run or inputs no peer gave in time (the trainer not reachable yet) goes to the back of
 * the queue and is tried again, FETCH_TRIES times in all: results whose runs nobody serves
 * must not hold the queue's other checks for long.
 */
export function onResultSubmitted (ctx: Context, jobId: bigint, blockHash: Hex): void {
  if (!isRole(ctx, 'validator')) return
  const row = ctx.state.job(jobId, 'validator')
  const known = row?.status
  if (known !== undefined && ENDED.has(known)) return // an event seen again after a restart
  if (known === 'querying') return // checked without its run already (checkWithoutRun)
  if (Array.isArray(row?.detail.heldOpen)) return // its open may still land (recheckHeldOpen)
  if (known !== 'checking') ctx.state.setJob(jobId, 'validator', 'checking', { blockHash })
  offQueue(ctx, 'checking', `job ${jobId}`, async () => {
    try {
      await checkResult(ctx, jobId, blockHash)
    } catch (error) {
      if (error instanceof RunUnusableError && !ctx.stopped()) {
        ctx.log(`job ${jobId}: ${error.message}`)
        return checkWithoutRun(ctx, jobId)
      }
      if (ctx.stopped() || !notHadInTime(error)) throw error
      const tries = Number(ctx.state.job(jobId, 'validator')?.detail.fetchTimeouts ?? 0) + 1
      // Said once: a job input's error names the job already; a run's says it was not had in time.
      const message = (error as Error).message.replace(`job ${jobId}: `, '')
      const why = error instanceof RunNotServedError ? message : `${message} (no peer gave it in time)`
      if (tries >= FETCH_TRIES && error instanceof RunNotServedError) return checkWithoutRun(ctx, jobId)
      if (tries >= FETCH_TRIES) return pass(ctx, jobId, `${why}, ${tries} times`)
      ctx.state.setJob(jobId, 'validator', 'checking', { fetchTimeouts: tries })
      ctx.log(`job ${jobId}: ${why}; checking again`)
      onResultSubmitted(ctx, jobId, blockHash)
    }
  })
}

/** How many times a run (and the job's inputs) is fetched before its result is checked without it, or (inputs) passed over. */
const FETCH_TRIES = 3

/** No peer gave a result's run in time. */
class RunNotServedError extends NodeError {
  override name = 'RunNotServedError'
}

/** The run served cannot be checked (unreadable, or not the transcript submitted). */
class RunUnusableError extends NodeError {
  override name = 'RunUnusableError'
}

/**
 * A result whose run no peer serves: checked by training the job from S_0 and forcing
 * the trainer's records out by queries (checkWithheld.ts), on a queue of its own (a
 * training and waits for the trainer's answers take long), the job whose window ends
 * first taken first, then disputed if need be.
 */
function checkWithoutRun (ctx: Context, jobId: bigint): void {
  ctx.state.setJob(jobId, 'validator', 'querying', {})
  if (!ctx.withheldWaiting.has(jobId)) ctx.withheldWaiting.set(jobId, undefined)
  offQueue(ctx, 'withheld', 'a check without the run', async () => {
    if (ctx.stopped()) return
    const next = await firstWindowToEnd(ctx.withheldWaiting, async id => {
      const job = await readJob(ctx.clients, ctx.options.deployment, id)
      return job.submittedAt + job.spec.challengeWindow
    })
    if (next !== undefined) await checkOneWithoutRun(ctx, next)
  })
}

async function checkOneWithoutRun (ctx: Context, jobId: bigint): Promise<void> {
  try {
    const dispute = await checkWithheld(ctx, jobId)
    if (dispute !== null) await openDispute(ctx, dispute.challenger, jobId, dispute.step, dispute.stateT, { queries: dispute.queries })
  } catch (error) {
    const again = `trying again in ${WITHHELD_RETRY_MS / 1000} s`
    if (error instanceof QueryHeldError) {
      // The chain holds the check's query: waited for, not counted against the check.
      ctx.log(`job ${jobId}: ${error.message}; ${again}`)
    } else {
      // A failure on the way (an RPC, a provider behind) ends nothing: asked again a little
      // later, from what it learnt (its training's checkpoints, the queries' answers).
      const attempts = Number(ctx.state.job(jobId, 'validator')?.detail.attempts ?? 0) + 1
      if (ctx.stopped() || attempts >= WITHHELD_ATTEMPTS) {
        ctx.log(`job ${jobId}: ${(error as Error).message}`)
        return
      }
      ctx.state.setJob(jobId, 'validator', 'querying', { attempts })
      ctx.log(`job ${jobId}: checking it without its run failed (${(error as Error).message}); ${again}`)
    }
    setTimeout(() => { if (!ctx.stopped()) checkWithoutRun(ctx, jobId) }, WITHHELD_RETRY_MS).unref()
  }
}

/** Tries of a check without the run, and the wait between them. */
const WITHHELD_ATTEMPTS = 5
const WITHHELD_RETRY_MS = 30_000

/** A result this validator does not check, and why: not asked again after a restart. */
function pass (ctx: Context, jobId: bigint, why: string): void {
  ctx.state.setJob(jobId, 'validator', 'passed', { why })
  ctx.log(`job ${jobId}: not checked: ${why}`)
}

async function checkResult (ctx: Context, jobId: bigint, blockHash: Hex): Promise<void> {
  if (ctx.stopped() || ENDED.has(ctx.state.job(jobId, 'validator')?.status ?? '')) return
  const job = await readJob(ctx.clients, ctx.options.deployment, jobId)
  if (job.trainer.toLowerCase() === ctx.clients.account.address.toLowerCase()) return pass(ctx, jobId, 'this node trained it')
  if (job.statusName !== 'submitted') return pass(ctx, jobId, `the job is ${job.statusName}`)
  if ((await ctx.clients.public.getBlock()).timestamp > await disputableUntil(ctx.clients, ctx.options.deployment, jobId, job)) return pass(ctx, jobId, 'its challenge window has ended')
  const runCid = hexToCid(job.modelCid)
  if (runCid === null) throw new NodeError(`job ${jobId}: the result names no valid run CID`)
  ctx.state.setJob(jobId, 'validator', 'checking', { runCid: runCid.toString() })
  const { recipe, tokens, base } = await jobInputs(ctx, jobId)
  const dir = join(ctx.options.home, 'validate', `job-${jobId}`)
  await fetchVersion(ctx, runCid.toString(), dir).catch((error: unknown) => {
    throw notHadInTime(error) ? new RunNotServedError(`no peer gave run ${runCid.toString()} in time`, { cause: error }) : error
  })
  // A run served that cannot be read, or whose transcript is not the one submitted, is no
  // better than none: the result is checked without it.
  const unusable = (why: string) => (cause: unknown): never => { throw new RunUnusableError(`the run served ${why}`, { cause }) }
  const records = await readRecords(dir).catch(unusable('has no readable transcript'))
  if (transcriptRootOf(records) !== job.transcriptRoot) unusable('does not hash to the submitted transcript root')(undefined)
  // Replays run the recipe of run.json: make it the job's, whatever the trainer wrote there.
  const info = await readRunInfo(dir).catch(unusable('has no readable run.json'))
  if (JSON.stringify(info.recipe) !== JSON.stringify(recipe)) {
    ctx.log(`job ${jobId}: the run names another recipe than the job's; replaying with the job's`)
    await writeFileAtomic(join(dir, 'run.json'), JSON.stringify({ ...JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')), recipe }, null, 2) + '\n')
  }
  const program = compileProgram(ctx.engine, recipe, base)
  const challenger = new Challenger(ctx.clients, ctx.options.deployment, { engine: ctx.engine, jobId, recipe, tokens, program, records, base })
  // S_0 first: anyone can compute it.
  if (!(await timed(ctx, 'verification', async () => challenger.check(INIT_STEP).agrees))) {
    await openDispute(ctx, challenger, jobId, INIT_STEP)
    return
  }
  const checkpoints = await checkpointSteps(dir)
  const count = stepsToCheck(recipe.steps, ctx.options)
  for (const step of drawSteps(blockHash, ctx.clients.account.address, recipe.steps, count)) {
    // From the checkpoint before the step, every state up to S_{t+1}: the first that
    // differs names the step to dispute, with a state before it the transcript commits to.
    const from = checkpoints.filter(c => c <= step).pop() ?? 0
    const result = await timed(ctx, 'verification', async () => replay(ctx.engine, dir, tokens, { from, steps: step + 1 - from }))
    if (result.firstMismatch !== null) {
      const bad = result.firstMismatch.disputeStep
      ctx.log(`job ${jobId}: step ${bad} does not replay to the committed ${result.firstMismatch.kind}`)
      await openDispute(ctx, challenger, jobId, bad, await runStateAt(ctx.engine, dir, tokens, bad))
      return
    }
  }
  // The last record: S_T and its loss, an evaluation anyone can redo from the final checkpoint.
  const last = await timed(ctx, 'verification', async () => replay(ctx.engine, dir, tokens, { from: recipe.steps, steps: 0 }))
  if (last.firstMismatch !== null) {
    const bad = last.firstMismatch.disputeStep
    ctx.log(`job ${jobId}: the last record does not replay to the committed ${last.firstMismatch.kind}`)
    await openDispute(ctx, challenger, jobId, bad, await runStateAt(ctx.engine, dir, tokens, bad))
    return
  }
  // S_T holds: the model file must be its parameters, or the trainer is slashed here.
  const template = modelFileTemplate(recipe, job.spec.tokensRoot)
  if (!(await checkModelFile(ctx, { jobId, dir, runCid, tokens, program, records, steps: recipe.steps, template, transcriptRoot: job.transcriptRoot }))) return
  // Attesting ends with the window itself; disputes may go on while answers to queries hold the job.
  if ((await ctx.clients.public.getBlock()).timestamp > job.submittedAt + job.spec.challengeWindow) return pass(ctx, jobId, `its challenge window ended before the check did (S_0 and ${count} drawn steps agree)`)
  await timed(ctx, 'chain', async () => attestJob(ctx.clients, ctx.options.deployment, jobId))
  ctx.state.setJob(jobId, 'validator', 'attested', { checked: count })
  ctx.log(`job ${jobId}: replayed S_0 and ${count} drawn steps, all agree: attested`)
}

/** Most tries of opening a dispute (the window is long; an RPC may drop a transaction or two). */
const OPEN_TRIES = 5

async function openDispute (ctx: Context, challenger: Challenger, jobId: bigint, step: number, stateT?: Awaited<ReturnType<typeof runStateAt>>, withheld?: { queries: string[] }): Promise<void> {
  let opened: Awaited<ReturnType<Challenger['open']>> | undefined
  for (let attempt = 0; opened === undefined; attempt++) {
    // One of ours already on-chain (an open mined after its wait gave up, before a crash
    // or a restart): taken up, never a second open and a second bond.
    const mine = await ownDisputeOpened(ctx, jobId)
    if (mine !== undefined) {
      ctx.log(`job ${jobId}: dispute ${mine.id} is already ours; taking it up`)
      return onOwnDisputeOpened(ctx, mine.id, jobId, mine.step)
    }
    try {
      opened = await timed(ctx, 'chain', async () => challenger.open(step, stateT))
    } catch (error) {
      const held = heldSendOf(error)
      if (held !== undefined) {
        // Still in the chain's pool, or mined late: not sent again (a second dispute would be
        // a second bond); once mined, its DisputeOpened is taken up (onOwnDisputeOpened).
        ctx.log(`job ${jobId}: ${(error as Error).message}; the dispute is taken up once it is mined`)
        // Kept in the job's state: after a restart the check is not run again (and opened anew) while these may land.
        ctx.state.setJob(jobId, 'validator', ctx.state.job(jobId, 'validator')?.status ?? 'checking', { heldOpen: held.hashes, heldNonce: held.nonce })
        recheckHeldOpen(ctx, jobId, held, async () => openDispute(ctx, challenger, jobId, step, stateT, withheld))
        return
      }
      const job = await readJob(ctx.clients, ctx.options.deployment, jobId)
      if (attempt + 1 >= OPEN_TRIES || job.statusName !== 'submitted' || ctx.stopped()) throw error
      ctx.log(`job ${jobId}: opening a dispute failed (${(error as Error).name}: ${(error as Error).message}); trying again`)
      await new Promise(resolve => setTimeout(resolve, 500 * 2 ** attempt))
    }
  }
  const { id, move } = opened
  ctx.challengers.set(String(id), { challenger, step, moves: [], open: move })
  ctx.state.setJob(jobId, 'validator', 'disputed', { dispute: String(id) })
  ctx.state.setDispute(id, jobId, 'challenger', 'opened', { step, openGas: move.gas, ...withheld })
  ctx.log(`dispute ${id}: opened over ${step === INIT_STEP ? 'the initial state' : `step ${step}`} of job ${jobId} (${move.gas} gas)`)
}

/**
 * Looks again, one receipt wait later, at a dispute open held back while its transaction
 * (or one of its copies at higher fees) may still land (lookAtHeldSend). Still in the pool,
 * or its nonce held there: looked at again later, not sent anew (a second open would
 * queue behind it, and both would land: two bonds); sent again at its nonce if a block
 * would no longer take it at its price, the copy's hash kept before it is sent. Mined:
 * its DisputeOpened is taken up (onOwnDisputeOpened). Reverted, or dropped with its nonce
 * free, with the job still open to disputes and none of ours: opened again.
 */
function recheckHeldOpen (ctx: Context, jobId: bigint, held: HeldSend, reopen: () => Promise<void>): void {
  setTimeout(() => {
    if (ctx.stopped()) return
    ctx.enqueue(async () => {
      const keep = (next: HeldSend | undefined): void => {
        const row = ctx.state.job(jobId, 'validator')
        if (row !== undefined) ctx.state.setJob(jobId, 'validator', row.status, { heldOpen: next?.hashes, heldNonce: next?.nonce })
      }
      if (ctx.state.job(jobId, 'validator')?.status === 'disputed') return
      let next = held
      let state
      try {
        if ((await readJob(ctx.clients, ctx.options.deployment, jobId)).statusName !== 'submitted') return keep(undefined)
        state = await lookAtHeldSend(ctx.clients, held, {
          onCopy: copy => { next = copy; keep(copy) },
          log: line => { ctx.log(`job ${jobId}: its dispute's open: ${line}`) }
        })
      } catch (error) {
        // The chain did not answer (a rate limit, a timeout): not taken for a dropped open.
        ctx.log(`job ${jobId}: could not look at its dispute's open (${(error as Error).message}); looking again later`)
        return recheckHeldOpen(ctx, jobId, next, reopen)
      }
      if (state === 'landed') return
      if (state !== 'gone') {
        ctx.log(`job ${jobId}: ${state === 'pending' ? 'its dispute\'s open is still waiting in the chain\'s pool' : `its nonce ${held.nonce} is held in the chain's pool by a transaction not known as its open`}; looking again later`)
        return recheckHeldOpen(ctx, jobId, next, reopen)
      }
      ctx.log(`job ${jobId}: its dispute's open was mined and reverted, or dropped by the chain; opening it again`)
      keep(undefined)
      // The nonce it left unused is taken again (the nonce manager had moved past it).
      forgetNonce(ctx.clients)
      await reopen().catch((e: Error) => { ctx.log(`job ${jobId}: opening a dispute failed (${e.message})`) })
    })
  }, ctx.clients.receiptTimeoutMs ?? receiptTimeoutMs(ctx.clients)).unref()
}

/** This validator's DisputeOpened over job `jobId` since its result, if there is one. */
async function ownDisputeOpened (ctx: Context, jobId: bigint): Promise<{ id: bigint, step: number } | undefined> {
  const { contracts, block } = ctx.options.deployment
  const [submitted] = await latestContractEvents(ctx.clients, { address: contracts.market, abi: trainingMarketAbi, eventName: 'ResultSubmitted', args: { jobId }, fromBlock: BigInt(block) })
  if (submitted === undefined) return undefined
  const [opened] = await allEvents(ctx.clients, {
    address: contracts.disputeGame, abi: disputeGameAbi, eventName: 'DisputeOpened', args: { jobId, challenger: ctx.clients.account.address }, fromBlock: submitted.blockNumber, range: BigInt(ctx.options.logRange ?? DEFAULT_LOG_RANGE)
  })
  return opened === undefined ? undefined : { id: opened.args.id as bigint, step: Number(opened.args.step) }
}

/**
 * The op trace the trainer itself announced for dispute `id`: only an announcement
 * signed by the peer id the trainer registered in the StakeRegistry counts (anyone can
 * gossip a CID; a forged trace would make the challenger pinpoint nothing and lose).
 */
async function trainersTrace (ctx: Context, id: bigint, trainer: Address): Promise<string | undefined> {
  const registered = (await readStake(ctx.clients, ctx.options.deployment, trainer)).peerId.toLowerCase()
  const ignored = new Set<string>()
  const wait = ctx.options.traceWaitMs ?? DEFAULT_TRACE_WAIT_MS
  for (let waited = 0; waited <= wait && !ctx.stopped(); waited += 200) {
    for (const [peer, cid] of ctx.traces.get(String(id)) ?? []) {
      let bytes: string | undefined
      try {
        bytes = peerIdBytes(peer).toLowerCase()
      } catch {}
      if (bytes === registered) return cid
      if (!ignored.has(peer)) ctx.log(`dispute ${id}: ignored a trace announced by ${peer}, not the trainer's registered peer`)
      ignored.add(peer)
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  return undefined
}

/**
 * The trainer posted its trace (or revealed requested values): name the faulty element.
 * A lie about the loss alone (the trace agrees with the replay) is pinpointed at the loss
 * op. Otherwise the element comes from the trainer's published trace, or, when it
 * publishes none or one that is not the trace it posted, from an on-chain walk down the
 * first op that departs (requestValues; the next ValuesProvided calls this again).
 */
export async function challengePinpoint (ctx: Context, id: bigint): Promise<void> {
  const mine = ctx.challengers.get(String(id))
  if (mine === undefined) return
  const d = await readDispute(ctx.clients, ctx.options.deployment, id)
  if (d.phase !== PHASE.awaitPinpoint) return
  if (await mine.challenger.lossOnly(id)) {
    await playMove(ctx, id, PHASE.awaitPinpoint, 'pinpointing the loss', async () => {
      const move = await timed(ctx, 'chain', async () => mine.challenger.pinpointLoss(id))
      mine.moves.push(move)
      ctx.state.setDispute(id, d.jobId, 'challenger', 'pinpointed', { op: move.op, element: 0, pinpointGas: move.gas })
      ctx.log(`dispute ${id}: the recorded loss is not the loss op's output; pinpointed op ${move.op} (${move.gas} gas)`)
    })
    return
  }
  const traceCid = mine.walking === true ? undefined : await trainersTrace(ctx, id, d.trainer)
  // The trace is had well before the pinpoint's deadline, or not used: a trace served slowly must leave time to walk.
  const now = (await ctx.clients.public.getBlock({ blockTag: 'latest' })).timestamp
  const fetchMs = Math.min(TRACE_FETCH_MAX_MS, Math.max(0, Number(d.deadline - now) * 1000 / 2))
  const published = traceCid === undefined ? undefined : await publishedDeparture(ctx, id, mine.challenger, traceCid, fetchMs)
  if (published === undefined) {
    mine.walking = true
    await walkOnChain(ctx, id, d.jobId)
    return
  }
  await playMove(ctx, id, PHASE.awaitPinpoint, 'pinpointing', async () => {
    const move = await timed(ctx, 'chain', async () => mine.challenger.pinpoint(id, published.output, published.choice))
    mine.moves.push(move)
    ctx.state.setDispute(id, d.jobId, 'challenger', 'pinpointed', { op: move.op, element: move.element, pinpointGas: move.gas })
    ctx.log(`dispute ${id}: pinpointed op ${move.op}, element ${move.element} (${move.gas} gas)`)
  })
}

/**
 * The element to pinpoint from the trace the trainer published, or undefined when it
 * cannot be had or is not the trace whose roots the trainer posted (fetched in vain,
 * unreadable, an op missing or not the posted one): retrying it would run the dispute
 * out of time, so its values are walked on-chain instead.
 */
async function publishedDeparture (ctx: Context, id: bigint, challenger: Challenger, traceCid: string, fetchMs: number): Promise<{ output: (op: number) => Promise<Tensor>, choice: { op: number, element: number } } | undefined> {
  let timer: NodeJS.Timeout | undefined
  try {
    const dir = join(ctx.options.home, 'disputes', `dispute-${id}`)
    await Promise.race([
      fetchVersion(ctx, traceCid, dir),
      new Promise((_resolve, reject) => { timer = setTimeout(() => { reject(new NodeError(`not had within ${Math.round(fetchMs / 1000)} s`)) }, fetchMs) })
    ])
    const { tensors } = decodeSafetensors(await readFile(join(dir, 'trace.safetensors')), traceCid)
    const output = async (op: number): Promise<Tensor> => {
      const t = tensors.get(`op-${String(op).padStart(5, '0')}`)
      if (t === undefined) throw new NodeError(`the published trace lacks op ${op}`)
      return t
    }
    return { output, choice: await challenger.departure(id, output) }
  } catch (error) {
    if (ctx.stopped()) throw error
    ctx.log(`dispute ${id}: the trainer's published trace cannot be used (${(error as Error).message}); walking its values on-chain`)
    return undefined
  } finally {
    clearTimeout(timer)
  }
}

/** Longest a validator waits to have a trainer's published trace (half the time left to pinpoint, if less). */
const TRACE_FETCH_MAX_MS = 10 * 60_000

/** One step of the on-chain walk to the element to pinpoint (the trainer published no trace). */
async function walkOnChain (ctx: Context, id: bigint, jobId: bigint): Promise<void> {
  const mine = ctx.challengers.get(String(id))
  if (mine === undefined) return
  await playMove(ctx, id, PHASE.awaitPinpoint, 'walking the trainer\'s values on-chain', async () => {
    const walk = await timed(ctx, 'chain', async () => mine.challenger.walkValues(id))
    mine.moves.push(...walk.moves)
    if (!('element' in walk.next)) {
      ctx.log(`dispute ${id}: no published trace; asked the trainer on-chain for leaves ${walk.next.firstLeaf}.. of op ${walk.op}`)
      return
    }
    const choice = { op: walk.op, element: walk.next.element }
    const move = await timed(ctx, 'chain', async () => mine.challenger.pinpoint(id, async () => { throw new NodeError('no published trace') }, choice))
    mine.moves.push(move)
    ctx.state.setDispute(id, jobId, 'challenger', 'pinpointed', { op: move.op, element: move.element, pinpointGas: move.gas })
    ctx.log(`dispute ${id}: pinpointed op ${move.op}, element ${move.element}, found on-chain (${move.gas} gas)`)
  })
}

/**
 * After a restart: results whose check was cut short are checked again, and the
 * disputes this validator opened are taken up from the chain and the run it fetched
 * (its side of the step recomputed from the trainer's checkpoints), so it still plays
 * them through and wins.
 */
export async function resumeValidator (ctx: Context): Promise<void> {
  if (!isRole(ctx, 'validator')) return
  const ours = ctx.state.jobs().filter(j => j.role === 'validator')
  // An open held back before the stop: what became of it decides, not a new check (which would open again).
  const held = ours.filter(j => (j.status === 'checking' || j.status === 'querying') && Array.isArray(j.detail.heldOpen))
  for (const row of held) {
    const jobId = BigInt(row.jobId)
    const blockHash = row.detail.blockHash as Hex | undefined
    ctx.log(`job ${row.jobId}: its dispute's open was held back before the stop; looking at it again`)
    const nonce = row.detail.heldNonce
    recheckHeldOpen(ctx, jobId, { hashes: row.detail.heldOpen as Hex[], nonce: typeof nonce === 'number' ? nonce : undefined }, async () => {
      if (row.status === 'querying') checkWithoutRun(ctx, jobId)
      else if (blockHash !== undefined) onResultSubmitted(ctx, jobId, blockHash)
    })
  }
  for (const row of ours.filter(j => j.status === 'checking' && typeof j.detail.blockHash === 'string' && !held.includes(j))) {
    ctx.log(`job ${row.jobId}: checking the result again (the last check was cut short)`)
    onResultSubmitted(ctx, BigInt(row.jobId), row.detail.blockHash as Hex)
  }
  for (const row of ours.filter(j => j.status === 'querying' && !held.includes(j))) {
    ctx.log(`job ${row.jobId}: checking the result without its run again (the last check was cut short)`)
    checkWithoutRun(ctx, BigInt(row.jobId))
  }
  for (const row of ctx.state.disputes().filter(d => d.role === 'challenger' && !d.status.startsWith('resolved'))) {
    const queries = Array.isArray(row.detail.queries) ? row.detail.queries.map(String) : undefined
    await resumeChallenge(ctx, BigInt(row.id), BigInt(row.jobId), Number(row.detail.step), BigInt(String(row.detail.openGas ?? 0)), queries)
  }
}

async function resumeChallenge (ctx: Context, id: bigint, jobId: bigint, step: number, openGas: bigint, queries?: string[]): Promise<void> {
  if (ctx.challengers.has(String(id))) return
  const d = await readDispute(ctx.clients, ctx.options.deployment, id)
  if (d.resolved) {
    await recordOutcome(ctx, id, jobId)
    return
  }
  // Its side of the step is recomputed by replaying it: off the queue, so the node's other moves are not held up.
  offQueue(ctx, 'resuming', `dispute ${id}`, async () => {
    if (ctx.challengers.has(String(id)) || ctx.stopped()) return
    let challenger: Challenger
    if (queries !== undefined) {
      // Opened over a run no peer served: its records came from queries, its state from this node's own training.
      const withheld = await resumeWithheld(ctx, jobId, step, queries)
      challenger = withheld.challenger
      challenger.resume(id, step, withheld.stateT)
    } else {
      const { recipe, tokens, base } = await jobInputs(ctx, jobId)
      const dir = join(ctx.options.home, 'validate', `job-${jobId}`)
      const records = await readRecords(dir)
      challenger = new Challenger(ctx.clients, ctx.options.deployment, { engine: ctx.engine, jobId, recipe, tokens, program: compileProgram(ctx.engine, recipe, base), records, base })
      challenger.resume(id, step, step === INIT_STEP ? undefined : await runStateAt(ctx.engine, dir, tokens, step))
    }
    ctx.challengers.set(String(id), { challenger, step, moves: [], open: { name: 'open', gas: openGas } })
    ctx.log(`dispute ${id}: taken up again after a restart`)
    // The trace may have been posted while this replayed: challengePinpoint looks at the phase when it runs.
    ctx.enqueue(async () => challengePinpoint(ctx, id))
  })
}

/**
 * The validator as a service: at start it checks again the results whose check was cut
 * short and takes its disputes up again; at stop it waits for the replays in flight,
 * which end early once the node is stopping.
 */
export function validatorService (ctx: Context): Service {
  return {
    start () { ctx.enqueue(async () => resumeValidator(ctx)) },
    async stop () { await Promise.all([ctx.work.checking, ctx.work.withheld, ctx.work.resuming]) }
  }
}

/** A dispute this validator opened but had not recorded (killed right after opening it). */
export async function onOwnDisputeOpened (ctx: Context, id: bigint, jobId: bigint, step: number): Promise<void> {
  if (!isRole(ctx, 'validator') || ctx.challengers.has(String(id))) return
  if (ctx.state.disputes().some(r => r.id === String(id) && r.role === 'challenger')) return
  // Opened over a run no peer served (an open mined after its wait gave up): its records are the queries' answers.
  const queries = ctx.state.job(jobId, 'validator')?.detail.queries as string[] | undefined
  ctx.state.setDispute(id, jobId, 'challenger', 'opened', { step, ...(queries === undefined ? {} : { queries }) })
  ctx.state.setJob(jobId, 'validator', 'disputed', { dispute: String(id) })
  await resumeChallenge(ctx, id, jobId, step, 0n, queries)
}
