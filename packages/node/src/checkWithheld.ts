import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  allEvents, Challenger, checkPosted, disputableUntil, disputeGameAbi, findDisputedStep, INIT_STEP, latestContractEvents, postedRecords, queryRecords, readDispute, readJob,
  trainingMarketAbi, type PostedRecord
} from '@commons/chain'
import { compileProgram, runStateAt, train, type StepProgress, type StepRecord, type TrainState } from '@commons/engine'
import { DEFAULT_LOG_RANGE } from './constants.ts'
import { jobInputs } from './content.ts'
import { NodeError, timed, type Context } from './context.ts'
import { endByTimeout } from './disputes.ts'
import { heldSendOf, lookAtHeldSend, type HeldSend } from './heldSends.ts'
import { NodeStoppingError } from './errors.ts'

/**
 * A result whose run no peer serves (docs/design.md, "a withheld run"). The validator
 * trains the job itself from S_0: a transcript root like the submitted one leaves nothing
 * to dispute. Otherwise the trainer's records are forced out by queries (openQuery; the
 * trainer answers or is slashed by its timeout) and searched for the first wrong one
 * (findDisputedStep), and a dispute is opened over it with the records and proofs the
 * trainer posted, from the validator's own state before the step.
 */

/** What a dispute over a withheld run is opened with. */
export interface WithheldDispute {
  challenger: Challenger
  step: number
  stateT?: TrainState
  /** The queries whose answers the records came from (kept to take the dispute up after a restart). */
  queries: string[]
}

/**
 * Takes from `waiting` the job whose challenge window ends first (`windowEnd`, read once
 * per job and kept in the map), the next to check without its run: first come, first
 * served would let a trainer hide honest runs ahead of a lie and push the lie's check
 * past its window. A job whose window cannot be read (an RPC failing) goes first, so it
 * is not left behind.
 */
export async function firstWindowToEnd (waiting: Map<bigint, bigint | undefined>, windowEnd: (jobId: bigint) => Promise<bigint>): Promise<bigint | undefined> {
  await Promise.all([...waiting].filter(([, end]) => end === undefined).map(async ([jobId]) => {
    waiting.set(jobId, await windowEnd(jobId).catch(() => undefined))
  }))
  let first: { jobId: bigint, end: bigint } | undefined
  for (const [jobId, end] of waiting) {
    const at = end ?? -1n
    if (first === undefined || at < first.end) first = { jobId, end: at }
  }
  if (first !== undefined) waiting.delete(first.jobId)
  return first?.jobId
}

/** The queries this validator asked about job `jobId`, as the chain has them (from its result's block on). */
async function ownQueries (ctx: Context, jobId: bigint): Promise<string[]> {
  const { contracts, block } = ctx.options.deployment
  const [submitted] = await latestContractEvents(ctx.clients, { address: contracts.market, abi: trainingMarketAbi, eventName: 'ResultSubmitted', args: { jobId }, fromBlock: BigInt(block) })
  if (submitted === undefined) return []
  const asked = await allEvents(ctx.clients, {
    address: contracts.disputeGame, abi: disputeGameAbi, eventName: 'RecordsQueried', args: { jobId, challenger: ctx.clients.account.address }, fromBlock: submitted.blockNumber, range: BigInt(ctx.options.logRange ?? DEFAULT_LOG_RANGE)
  })
  return asked.map(e => String(e.args.id))
}

/** Steps of a check's training timed before its pace is trusted to say it cannot end inside the window. */
const PACE_STEPS = 10

/**
 * A training's onStep that throws WindowClosedError once PACE_STEPS steps show the
 * training would end after `windowEndsAt` (a Date.now() time).
 */
export function paceGuard (windowEndsAt: number): (progress: Pick<StepProgress, 'etaSeconds'>) => void {
  let steps = 0
  return ({ etaSeconds }) => {
    const endsAt = Date.now() + etaSeconds * 1000
    if (++steps >= PACE_STEPS && endsAt > windowEndsAt) {
      throw new WindowClosedError(`its training would end ${Math.round((endsAt - windowEndsAt) / 1000)} s after its challenge window`)
    }
  }
}

/** Where a validator trains a job whose run it could not have. */
const ownRunDir = (ctx: Context, jobId: bigint): string => join(ctx.options.home, 'validate', `job-${jobId}-own`)

/**
 * Checks the result of job `jobId` without its run: resolves with the dispute to open, or
 * null when there is none to open (the transcript is honest, or the trainer did not
 * answer a query and was slashed for it).
 */
export async function checkWithheld (ctx: Context, jobId: bigint): Promise<WithheldDispute | null> {
  const job = await readJob(ctx.clients, ctx.options.deployment, jobId)
  if (await closed(ctx, job, jobId)) return null
  const { recipe, tokens, tokenizerJson, base } = await jobInputs(ctx, jobId)
  const dir = ownRunDir(ctx, jobId)
  ctx.log(`job ${jobId}: no peer serves its run; training it from S_0 to check its transcript`)
  const resume = await readFile(join(dir, 'run.json')).then(() => true, () => false)
  // A training that cannot end inside the window checks nothing: given up as soon as its
  // pace shows it, so jobs whose training outlasts their window (a trainer's decoys, ahead
  // of its lie) cannot hold the lane for a whole training each.
  const windowLeftMs = Number(job.submittedAt + job.spec.challengeWindow - (await ctx.clients.public.getBlock()).timestamp) * 1000
  const inWindow = paceGuard(Date.now() + windowLeftMs)
  let own
  try {
    own = await timed(ctx, 'verification', async () => train(ctx.engine, {
      recipe, tokens, tokenizerJson, base, data: { source: `job ${jobId}` }, out: dir, resume,
      onStep: progress => {
        if (ctx.stopped()) throw new NodeStoppingError(`job ${jobId}: its check paused: the node is stopping`)
        inWindow(progress)
      }
    }))
  } catch (error) {
    if (!(error instanceof WindowClosedError)) throw error
    ctx.state.setJob(jobId, 'validator', 'passed', { why: `no peer serves its run and ${error.message}` })
    ctx.log(`job ${jobId}: not checked: no peer serves its run and ${error.message}`)
    return null
  }
  if (own.transcriptRoot === job.transcriptRoot) {
    ctx.state.setJob(jobId, 'validator', 'passed', { why: 'no peer serves its run; training it from S_0 gives its transcript root' })
    ctx.log(`job ${jobId}: its transcript is the one a training from S_0 gives; its run is not served`)
    return null
  }
  // A query held back (not mined in its wait) decides before any is asked: one that may
  // still land is not asked again beside it (a second bond, paid to the trainer).
  await settleHeldQuery(ctx, jobId)
  // Queries asked before a restart, or mined after their wait gave up (a check tried again):
  // their answers (waited for, if still due) are not asked for, nor paid for, again.
  const recorded = (ctx.state.job(jobId, 'validator')?.detail.queries as string[] | undefined) ?? []
  const queries = [...new Set([...recorded, ...await ownQueries(ctx, jobId)])]
  // Kept at once: a dispute opened over them is taken up from them (after a restart, or an open mined late).
  if (queries.length > recorded.length) ctx.state.setJob(jobId, 'validator', 'querying', { queries })
  let found
  try {
    const known: PostedRecord[] = []
    for (const id of queries) known.push(...await answerOf(ctx, BigInt(id)))
    checkPosted(known, job.transcriptRoot, recipe.steps + 1)
    found = await findDisputedStep(own.records as StepRecord[], async indices => {
      if (await closed(ctx, job, jobId)) throw new WindowClosedError(`job ${jobId}: its challenge window ended before the lie was found`)
      const id = await timed(ctx, 'chain', async () => queryRecords(ctx.clients, ctx.options.deployment, jobId, indices)).catch((error: unknown) => {
        const held = heldSendOf(error)
        if (held !== undefined) ctx.state.setJob(jobId, 'validator', 'querying', { heldQuery: held })
        throw error
      })
      queries.push(String(id))
      ctx.state.setJob(jobId, 'validator', 'querying', { queries })
      ctx.log(`job ${jobId}: its transcript is not a training's; query ${id} asks the trainer for records ${indices.join(', ')}`)
      const posted = await answerOf(ctx, id)
      // What is read back (the RecordsPosted log) must be what the chain checked.
      checkPosted(posted, job.transcriptRoot, recipe.steps + 1)
      return posted
    }, known)
  } catch (error) {
    if (error instanceof WindowClosedError) return null
    if (!(error instanceof TrainerSilentError)) throw error
    ctx.state.setJob(jobId, 'validator', 'disputed', { queries, why: error.message })
    ctx.log(`job ${jobId}: ${error.message}`)
    return null
  }
  const challenger = challengerOf(ctx, jobId, { recipe, tokens, base }, found.records)
  const stateT = found.step === INIT_STEP ? undefined : await runStateAt(ctx.engine, dir, tokens, found.step, undefined, base)
  return { challenger, step: found.step, stateT, queries }
}

/** A check without the run that waits for a query of its own still in the chain's pool: tried again later, without counting as a failure. */
export class QueryHeldError extends NodeError {
  override name = 'QueryHeldError'
}

/**
 * Looks at the query this check held back, if any (lookAtHeldSend): mined, it is among
 * ownQueries' now; gone, it may be asked again; still waiting (or its nonce held in the
 * pool): QueryHeldError, and nothing is asked.
 */
async function settleHeldQuery (ctx: Context, jobId: bigint): Promise<void> {
  const held = ctx.state.job(jobId, 'validator')?.detail.heldQuery as HeldSend | undefined
  if (held === undefined) return
  const keep = (next: HeldSend | undefined): void => { ctx.state.setJob(jobId, 'validator', 'querying', { heldQuery: next }) }
  const state = await lookAtHeldSend(ctx.clients, held, { onCopy: keep, log: line => { ctx.log(`job ${jobId}: its query: ${line}`) } })
  if (state === 'landed' || state === 'gone') return keep(undefined)
  throw new QueryHeldError(state === 'pending' ? 'its query is still waiting in the chain\'s pool' : `its query's nonce ${held.nonce} is held in the chain's pool by a transaction not known as it`)
}

/**
 * Whether a result can no longer be disputed (its job ended, or its challenge window did):
 * then it is passed over and says why. A requester who wants withheld runs checked gives
 * a window longer than a training and a few of the game's move times.
 */
async function closed (ctx: Context, job: Awaited<ReturnType<typeof readJob>>, jobId: bigint): Promise<boolean> {
  const now = await readJob(ctx.clients, ctx.options.deployment, jobId)
  // The window, or the hold the answers to this validator's queries extend it by.
  const ends = await disputableUntil(ctx.clients, ctx.options.deployment, jobId, job)
  const why = now.statusName !== 'submitted' ? `the job is ${now.statusName}` : (await ctx.clients.public.getBlock()).timestamp > ends ? 'its challenge window ended' : undefined
  if (why === undefined) return false
  ctx.state.setJob(jobId, 'validator', 'passed', { why: `no peer serves its run, and ${why}` })
  ctx.log(`job ${jobId}: not checked: no peer serves its run, and ${why}`)
  return true
}

/** The challenge window ended while the lie was searched for. */
export class WindowClosedError extends NodeError {
  override name = 'WindowClosedError'
}

/** A trainer that let a query of its records time out: it was slashed for it. */
class TrainerSilentError extends NodeError {
  override name = 'TrainerSilentError'
}

/** The records posted in answer to query `id`, once answered; ends the query by timeout (the trainer slashed) when its deadline passes unanswered. */
async function answerOf (ctx: Context, id: bigint): Promise<PostedRecord[]> {
  for (;;) {
    if (ctx.stopped()) throw new NodeStoppingError(`query ${id}: no longer waited for: the node is stopping`)
    const d = await readDispute(ctx.clients, ctx.options.deployment, id)
    if (d.resolved && d.reasonName === 'answered') {
      // A provider a block behind may not have the answer's event yet: asked again at the next poll.
      const posted = await postedRecords(ctx.clients, ctx.options.deployment, id)
      if (posted !== undefined) return posted
    } else if (d.resolved) {
      throw new TrainerSilentError(`query ${id} was not answered: the trainer was slashed (${d.reasonName})`)
    } else if ((await ctx.clients.public.getBlock()).timestamp > d.deadline) {
      // Someone else may end it first (the send then fails): the next poll reads the outcome.
      await endByTimeout(ctx, id).catch((error: Error) => { ctx.log(`query ${id}: ending it by timeout failed (${error.name}); looking again`) })
      continue
    }
    await new Promise(resolve => setTimeout(resolve, ctx.options.pollMs ?? 1000))
  }
}

/** A challenger over the records the queries brought: a sparse transcript, each record with the proof the trainer posted. */
function challengerOf (ctx: Context, jobId: bigint, inputs: Pick<Awaited<ReturnType<typeof jobInputs>>, 'recipe' | 'tokens' | 'base'>, posted: Map<number, PostedRecord>): Challenger {
  const { recipe, tokens, base } = inputs
  const bits = new Uint32Array(1)
  const records: StepRecord[] = []
  for (const [i, r] of posted) {
    bits[0] = r.lossBits
    records[i] = { step: i, state: r.state, loss: new Float32Array(bits.buffer)[0] }
  }
  const proofs = new Map([...posted].map(([i, r]) => [i, { lossBits: r.lossBits, proof: r.proof }]))
  return new Challenger(ctx.clients, ctx.options.deployment, { engine: ctx.engine, jobId, recipe, tokens, program: compileProgram(ctx.engine, recipe, base), records, proofs, base })
}

/**
 * The challenger of a dispute opened over a withheld run, after a restart: its records
 * again from the answers to `queries`, its state before the step from its own training.
 */
export async function resumeWithheld (ctx: Context, jobId: bigint, step: number, queries: string[]): Promise<{ challenger: Challenger, stateT?: TrainState }> {
  const inputs = await jobInputs(ctx, jobId)
  const posted = new Map<number, PostedRecord>()
  for (const id of queries) for (const r of await postedRecords(ctx.clients, ctx.options.deployment, BigInt(id)) ?? []) posted.set(r.index, r)
  const challenger = challengerOf(ctx, jobId, inputs, posted)
  const stateT = step === INIT_STEP ? undefined : await runStateAt(ctx.engine, ownRunDir(ctx, jobId), inputs.tokens, step, undefined, inputs.base)
  return { challenger, stateT }
}
