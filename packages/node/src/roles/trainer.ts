import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  checkJobPolicy, claimJob, Defender, finalizeJob, INIT_STEP, JobTermsError, readDispute, readJob, readStake, submitResult, TransactionNotMinedError, type JobInputs
} from '@commons/chain'
import { checkpointSteps, readRecords, runStateAt, Tensor, train, writeSafetensors, type RunFault } from '@commons/engine'
import { TOPICS } from '../constants.ts'
import { jobInputs, publishDir, unpublishedCid } from '../content.ts'
import { isMe, isRole, offQueue, timed, type Context, type Service } from '../context.ts'
import { notHadInTime, NodeStoppingError } from '../errors.ts'
import { resolveFault } from '../faults.ts'
import { PHASE, playMove } from '../moves.ts'

/**
 * The trainer: claims the jobs it checked and can afford, trains each with the job's
 * terms, publishes the run, submits, and defends it in disputes. Training runs off the
 * event queue (one job at a time), so disputes are answered while it trains.
 */

/** Statuses after which a job is not looked at again by this trainer. */
const DONE = new Set(['refused', 'claimed', 'training', 'submitted', 'finalized', 'slashed', 'lost'])

/**
 * The trainer as a service: at start it carries a run cut short by a restart on from its
 * last checkpoint (off the queue) and takes its disputes up again; at stop it waits for
 * the training in flight, which ends after its current step once the node is stopping.
 */
export function trainerService (ctx: Context): Service {
  return {
    start () {
      const unfinished = ctx.state.runs().filter(r => r.status === 'training')
      if (unfinished.length > 0) {
        const run = unfinished[0]
        ctx.log(`job ${run.jobId}: resuming the run from its last checkpoint`)
        ctx.work.training = trainJob(ctx, BigInt(run.jobId)).catch((error: unknown) => { ctx.log(`job ${run.jobId}: ${(error as Error).message}`) })
          .finally(() => { ctx.work.training = null; retrySkipped(ctx) })
      }
      ctx.enqueue(async () => resumeTrainer(ctx))
    },
    async stop () { await Promise.all([ctx.work.training, ctx.work.defending]) }
  }
}

/**
 * A job posted, or skipped earlier (busy, not enough free stake) and looked at again:
 * checked against the node's policy and its own terms, then claimed and trained.
 */
export async function considerJob (ctx: Context, jobId: bigint): Promise<void> {
  if (!isRole(ctx, 'trainer')) return
  const known = ctx.state.job(jobId, 'trainer')
  if (known !== undefined && DONE.has(known.status)) return
  const job = await readJob(ctx.clients, ctx.options.deployment, jobId)
  // A claim of ours that was mined after its wait gave up (the job was skipped): trained now.
  const claimed = job.statusName === 'claimed' && isMe(ctx, job.trainer)
  if (job.statusName !== 'open' && !claimed) {
    if (known !== undefined) ctx.state.setJob(jobId, 'trainer', 'gone', { jobStatus: job.statusName })
    return
  }
  if (!claimed) {
    try {
      checkJobPolicy(jobId, job.spec, ctx.policy)
    } catch (error) {
      refuse(ctx, jobId, error)
      return
    }
  }
  if (ctx.work.training !== null) {
    skip(ctx, jobId, 'busy training another job')
    return
  }
  if (!claimed && claimPending(ctx, jobId)) {
    skip(ctx, jobId, 'a claim of this node on another job is not mined yet')
    return
  }
  const stake = claimed ? undefined : await readStake(ctx.clients, ctx.options.deployment, ctx.clients.account.address)
  if (stake !== undefined && stake.staked - stake.locked < job.spec.jobStake) {
    skip(ctx, jobId, `stake too small to claim (${stake.staked - stake.locked} free, ${job.spec.jobStake} needed)`)
    return
  }
  // Fetching, checking and training take long: off the queue, one job at a time.
  ctx.work.training = claimAndTrain(ctx, jobId, claimed).catch((error: unknown) => {
    // A fetch the stop cut short says nothing of the job: skipped, it is looked at again after the next start.
    if (ctx.stopping.aborted) skip(ctx, jobId, 'the node stopped while fetching its inputs')
    // Nor, at first, does an input no peer gave in time (its holder not reachable yet): asked
    // again, FETCH_TRIES times in all, so that a job naming CIDs nobody holds does not hold the trainer forever.
    else if (error instanceof JobTermsError && notHadInTime(error) && timedOutTries(ctx, jobId) + 1 < FETCH_TRIES) {
      skip(ctx, jobId, `${(error as Error).message} (no peer gave it in time)`, { fetchTimeouts: timedOutTries(ctx, jobId) + 1 })
    } else if (error instanceof JobTermsError) refuse(ctx, jobId, error)
    else ctx.log(`job ${jobId}: ${(error as Error).message}`)
  }).finally(() => {
    ctx.work.training = null
    retrySkipped(ctx)
  })
}

/** How many times a job's inputs are fetched before a job whose inputs no peer gives in time is refused. */
const FETCH_TRIES = 3

const timedOutTries = (ctx: Context, jobId: bigint): number => Number(ctx.state.job(jobId, 'trainer')?.detail.fetchTimeouts ?? 0)

function refuse (ctx: Context, jobId: bigint, error: unknown): void {
  const e = error as JobTermsError
  ctx.state.setJob(jobId, 'trainer', 'refused', { term: e.details?.term, reason: e.message })
  ctx.log(`job ${jobId}: not claimed: ${e.message}`)
}

function skip (ctx: Context, jobId: bigint, why: string, detail: Record<string, unknown> = {}): void {
  ctx.state.setJob(jobId, 'trainer', 'skipped', { why, ...detail })
  ctx.log(`job ${jobId}: skipped for now (${why})`)
}

/**
 * Looks again at jobs skipped while busy or short of stake. A job whose claim is not mined
 * yet waits for the chain's clock (`onClock`: every 15 s), not for the end of other work,
 * or it would be looked at again at once, over and over, until the claim is mined.
 */
export function retrySkipped (ctx: Context, onClock = false): void {
  if (!isRole(ctx, 'trainer') || ctx.work.training !== null) return
  for (const row of ctx.state.jobs().filter(j => j.role === 'trainer' && j.status === 'skipped')) {
    if (row.detail.claimPending === true && !onClock) continue
    ctx.enqueue(async () => considerJob(ctx, BigInt(row.jobId)))
  }
}

/** A job of this node's whose claim is not mined yet, other than `jobId`: no other is claimed meanwhile (it may land while another trains). */
const claimPending = (ctx: Context, jobId: bigint): boolean =>
  ctx.state.jobs().some(j => j.role === 'trainer' && j.status === 'skipped' && j.detail.claimPending === true && j.jobId !== String(jobId))

async function claimAndTrain (ctx: Context, jobId: bigint, claimed: boolean): Promise<void> {
  // Every term checked before the claim: a job that cannot be trained as posted is never claimed.
  await jobInputs(ctx, jobId)
  if (!claimed) {
    try {
      await timed(ctx, 'chain', async () => claimJob(ctx.clients, ctx.options.deployment, jobId))
    } catch (error) {
      const now = await readJob(ctx.clients, ctx.options.deployment, jobId)
      const landed = now.statusName === 'claimed' && isMe(ctx, now.trainer)
      // A claim of ours still in the chain's pool (this one, or one sent before it) may yet
      // be mined: looked at again on the chain's clock, and trained once it is. A provider
      // that cannot read the pending state leaves the not-mined error alone to say so.
      if (!landed && now.statusName === 'open' && (error instanceof TransactionNotMinedError || await claimInPool(ctx, jobId))) {
        skip(ctx, jobId, `its claim is not mined yet (${(error as Error).message})`, { claimPending: true })
        return
      }
      if (!landed) {
        ctx.state.setJob(jobId, 'trainer', 'gone', { jobStatus: now.statusName })
        ctx.log(`job ${jobId}: not claimed (${now.statusName === 'open' ? (error as Error).message : 'another trainer was first'})`)
        return
      }
    }
  }
  ctx.state.setJob(jobId, 'trainer', 'claimed')
  ctx.log(`job ${jobId}: claimed`)
  await trainJob(ctx, jobId)
}

/** Whether the chain's pending state (its pool applied) has job `jobId` claimed by this node; false when it cannot be read. */
async function claimInPool (ctx: Context, jobId: bigint): Promise<boolean> {
  const pending = await readJob(ctx.clients, ctx.options.deployment, jobId, 'pending').catch(() => undefined)
  return pending?.statusName === 'claimed' && isMe(ctx, pending.trainer)
}

/** Trains a claimed job with its terms (resuming its run if the node restarted), publishes it and submits. */
export async function trainJob (ctx: Context, jobId: bigint): Promise<void> {
  const { recipe, tokens, tokenizerJson, base } = await jobInputs(ctx, jobId)
  const dir = join(ctx.options.home, 'runs', `job-${jobId}`)
  const known = ctx.state.run(jobId)
  const recorded = ctx.state.job(jobId, 'trainer')?.detail.fault as RunFault | undefined
  const fault = ctx.options.fault === undefined ? undefined : (known?.status === 'training' && recorded !== undefined ? recorded : resolveFault(ctx.engine, ctx.options.fault, recipe, tokens, base))
  ctx.state.setJob(jobId, 'trainer', 'training', fault === undefined ? {} : { fault })
  ctx.state.setRun({ jobId: String(jobId), dir, status: 'training', step: 0, runCid: null })
  const resume = known !== undefined && (await readFile(join(dir, 'run.json')).then(() => true, () => false))
  if (fault !== undefined) ctx.log(`job ${jobId}: training with a deliberate fault ${JSON.stringify(fault)}`)
  const result = await timed(ctx, 'training', async () => train(ctx.engine, {
    recipe, tokens, tokenizerJson, base, data: { source: `job ${jobId}` }, out: dir, resume, fault,
    onStep: p => {
      // A node stopping ends its training after this step; it resumes from its last checkpoint.
      if (ctx.stopped()) throw new NodeStoppingError(`job ${jobId}: training paused at step ${p.step}: the node is stopping`)
      ctx.state.setRun({ jobId: String(jobId), dir, status: 'training', step: p.step, runCid: null })
      if (p.step % Math.max(1, Math.floor(p.steps / 4)) === 0 || p.step === p.steps) ctx.log(`job ${jobId}: step ${p.step}/${p.steps} loss ${p.loss.toFixed(3)}`)
    }
  }))
  // A trainer that hides its run on purpose (testing) submits its CID and serves none of it.
  const runCid = ctx.options.fault?.hide === true
    ? await unpublishedCid(ctx.options.home, `run-${jobId}`, dir, `run of job ${jobId}`)
    : await publishDir(ctx.store, `run-${jobId}`, dir, `run of job ${jobId}`)
  ctx.state.setRun({ jobId: String(jobId), dir, status: 'published', step: result.steps, runCid })
  await ctx.network.publish(TOPICS.checkpoints, { kind: 'run', jobId: String(jobId), runCid, checkpoints: await checkpointSteps(dir) })
  await ctx.network.publish(TOPICS.results, { jobId: String(jobId), runCid })
  await timed(ctx, 'chain', async () => submitResult(ctx.clients, ctx.options.deployment, { jobId, modelCid: runCid, transcriptRoot: result.transcriptRoot, steps: result.steps }))
  ctx.state.setJob(jobId, 'trainer', 'submitted', { runCid, transcriptRoot: result.transcriptRoot })
  ctx.state.setRun({ jobId: String(jobId), dir, status: 'submitted', step: result.steps, runCid })
  ctx.log(`job ${jobId}: submitted run ${runCid}`)
}

function defenderFor (ctx: Context, jobId: bigint, { recipe, tokens, base }: JobInputs): Defender {
  const key = String(jobId)
  const known = ctx.defenders.get(key)
  if (known !== undefined) return known
  const dir = join(ctx.options.home, 'runs', `job-${jobId}`)
  const fault = ctx.state.job(jobId, 'trainer')?.detail.fault as RunFault | undefined
  const defender = new Defender(ctx.clients, ctx.options.deployment, { engine: ctx.engine, recipe, tokens, fault, base, stateAt: async step => runStateAt(ctx.engine, dir, tokens, step, fault, base) })
  ctx.defenders.set(key, defender)
  return defender
}

/**
 * A dispute against this trainer: publish the step's op trace, then post its roots. The
 * trace is a one-step replay: computed off the event queue (so no other move of this node
 * waits for it), then the move itself is queued like every other.
 */
export async function defendTrace (ctx: Context, id: bigint, jobId: bigint, step: number): Promise<void> {
  const defender = defenderFor(ctx, jobId, await jobInputs(ctx, jobId))
  ctx.state.setDispute(id, jobId, 'trainer', 'opened', { step })
  offQueue(ctx, 'defending', `dispute ${id}`, async () => {
    if (ctx.stopped()) return
    const outputs = await defender.trace(step)
    const dir = join(ctx.options.home, 'disputes', `dispute-${id}`)
    await mkdir(dir, { recursive: true })
    // A trainer that misleads on purpose (testing) publishes a trace unlike the one it posts.
    const published = ctx.options.fault?.badTrace === true ? outputs.map(misleading) : outputs
    await writeSafetensors(join(dir, 'trace.safetensors'), published.map((t, i): [string, Tensor] => [`op-${String(i).padStart(5, '0')}`, t]), { step: String(step), dispute: String(id) })
    // A trainer that withholds its trace on purpose (testing) leaves the challenger to force it out on-chain.
    const withhold = ctx.options.fault?.withhold === true
    const traceCid = withhold ? undefined : await publishDir(ctx.store, `dispute-${id}`, dir, `op trace of step ${step} for dispute ${id}`)
    if (traceCid !== undefined) await ctx.network.publish(TOPICS.checkpoints, { kind: 'trace', disputeId: String(id), cid: traceCid })
    ctx.enqueue(async () => playMove(ctx, id, PHASE.awaitTrace, 'posting the op trace', async () => {
      const move = await timed(ctx, 'chain', async () => defender.postOpTrace(id))
      ctx.state.setDispute(id, jobId, 'trainer', 'traced', { step, traceCid, postOpTraceGas: move.gas })
      ctx.log(`dispute ${id}: posted the op trace of step ${step === INIT_STEP ? 'init' : step} (${move.gas} gas)`)
      // Announced again once on chain, for challengers that joined the gossip late.
      if (traceCid !== undefined) await ctx.network.publish(TOPICS.checkpoints, { kind: 'trace', disputeId: String(id), cid: traceCid })
    }))
  })
}

/** A copy of `t` with its first value changed: what a trainer publishing a misleading trace writes. */
function misleading (t: Tensor): Tensor {
  const data = t.data.slice()
  data[0] = data[0] === 1 ? 2 : 1
  return new Tensor(t.shape, data)
}

export async function defendReveal (ctx: Context, id: bigint, jobId: bigint): Promise<void> {
  const defender = defenderFor(ctx, jobId, await jobInputs(ctx, jobId))
  await playMove(ctx, id, PHASE.awaitReveal, 'revealing the element', async () => {
    const move = await timed(ctx, 'chain', async () => defender.reveal(id))
    ctx.state.setDispute(id, jobId, 'trainer', 'revealed', { revealGas: move.gas })
    ctx.log(`dispute ${id}: revealed the element (${move.gas} gas)`)
  })
}

/** The challenger asked for values of an op output: reveal them, or lose by timeout. */
export async function defendValues (ctx: Context, id: bigint, jobId: bigint): Promise<void> {
  const defender = defenderFor(ctx, jobId, await jobInputs(ctx, jobId))
  await playMove(ctx, id, PHASE.awaitValues, 'revealing the requested values', async () => {
    const move = await timed(ctx, 'chain', async () => defender.provideValues(id))
    ctx.state.setDispute(id, jobId, 'trainer', 'values revealed', { provideValuesGas: move.gas })
    ctx.log(`dispute ${id}: revealed the requested values (${move.gas} gas)`)
  })
}

/** A query of this trainer's transcript: answer with the records of its run, or be slashed. */
export async function answerQuery (ctx: Context, id: bigint, jobId: bigint): Promise<void> {
  const defender = defenderFor(ctx, jobId, await jobInputs(ctx, jobId))
  ctx.state.setDispute(id, jobId, 'trainer', 'queried', {})
  const records = await readRecords(join(ctx.options.home, 'runs', `job-${jobId}`))
  await playMove(ctx, id, PHASE.awaitRecords, 'answering the query', async () => {
    const move = await timed(ctx, 'chain', async () => defender.answerQuery(id, records))
    ctx.state.setDispute(id, jobId, 'trainer', 'answered', { postRecordsGas: move.gas })
    ctx.log(`dispute ${id}: answered the query of records (${move.gas} gas)`)
  })
}

/** A query opened on a job: answer it when this node trained the job. */
export async function onRecordsQueried (ctx: Context, id: bigint, jobId: bigint): Promise<void> {
  if (!isRole(ctx, 'trainer')) return
  const job = await readJob(ctx.clients, ctx.options.deployment, jobId)
  if (job.trainer.toLowerCase() === ctx.clients.account.address.toLowerCase()) await answerQuery(ctx, id, jobId)
}

export async function onValuesRequested (ctx: Context, id: bigint): Promise<void> {
  if (!isRole(ctx, 'trainer')) return
  const d = await readDispute(ctx.clients, ctx.options.deployment, id)
  if (d.trainer.toLowerCase() === ctx.clients.account.address.toLowerCase()) await defendValues(ctx, id, d.jobId)
}

/** A dispute event: defend it when this node trained the job. */
export async function onDisputeOpened (ctx: Context, id: bigint, jobId: bigint, step: number): Promise<void> {
  if (!isRole(ctx, 'trainer')) return
  const job = await readJob(ctx.clients, ctx.options.deployment, jobId)
  if (job.trainer.toLowerCase() === ctx.clients.account.address.toLowerCase()) await defendTrace(ctx, id, jobId, step)
}

export async function onPinpointed (ctx: Context, id: bigint): Promise<void> {
  if (!isRole(ctx, 'trainer')) return
  const d = await readDispute(ctx.clients, ctx.options.deployment, id)
  if (d.trainer.toLowerCase() === ctx.clients.account.address.toLowerCase()) await defendReveal(ctx, id, d.jobId)
}

/** Pays a submitted job out once its window has passed (the contract says when). */
export async function tryFinalize (ctx: Context): Promise<void> {
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
 * Announces again the op traces of this trainer's disputes still waiting for the
 * challenger's pinpoint: gossip is best effort, and a challenger that was down (or
 * joined late) when the trace was first announced needs it to move.
 */
export function reannounceTraces (ctx: Context): void {
  if (!isRole(ctx, 'trainer')) return
  for (const row of ctx.state.disputes().filter(d => d.role === 'trainer' && d.status === 'traced' && typeof d.detail.traceCid === 'string')) {
    ctx.network.publish(TOPICS.checkpoints, { kind: 'trace', disputeId: row.id, cid: row.detail.traceCid }).catch(() => {})
  }
}

/**
 * After a restart: the disputes of this trainer that still wait for its move (an event
 * handled before the restart, a retry cut short) are answered from the chain's phase.
 */
export async function resumeTrainer (ctx: Context): Promise<void> {
  if (!isRole(ctx, 'trainer')) return
  for (const row of ctx.state.disputes().filter(d => d.role === 'trainer' && !d.status.startsWith('resolved'))) {
    const id = BigInt(row.id)
    const d = await readDispute(ctx.clients, ctx.options.deployment, id)
    if (d.phase === PHASE.awaitTrace) await defendTrace(ctx, id, d.jobId, d.step)
    else if (d.phase === PHASE.awaitReveal) await defendReveal(ctx, id, d.jobId)
    else if (d.phase === PHASE.awaitValues) await defendValues(ctx, id, d.jobId)
    else if (d.phase === PHASE.awaitRecords) await answerQuery(ctx, id, d.jobId)
  }
}
