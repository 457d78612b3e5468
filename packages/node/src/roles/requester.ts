import { join } from 'node:path'
import { baseWeightsOf, hexToCid, modelHeaderOf, postJob, readJob, type JobSpec } from '@commons/chain'
import { tensorRoot, toHex, transcriptRootOf } from '@commons/protocol'
import { compileProgram, loadCheckpoint, readRecords, readSafetensors, stateRootOf, tokensRootOf, type EngineContext, type Recipe } from '@commons/engine'
import { putRaw, tokenizeVersion, type Store } from '@commons/store'
import { TOPICS } from '../constants.ts'
import { fetchVersion, jobInputs } from '../content.ts'
import { NodeError, timed, type Context } from '../context.ts'

/** The requester: posts jobs on its datasets, and fetches and checks the models they produce. */

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

/**
 * The on-chain terms of a job on a dataset version of `store`: the recipe stored there
 * as a raw block (its CID is what the job names), the version's tokens root and the
 * recipe's program hash (with its base weights, fine-tuning: the base model folder must be
 * in the store). A node serving that store lets trainers fetch them all by CID.
 */
export async function jobSpecFor (engine: EngineContext, store: Store, params: PostJobParams): Promise<JobSpec> {
  const recipeCid = await putRaw(store.blocks, new TextEncoder().encode(JSON.stringify(params.recipe)))
  const { tokens } = await tokenizeVersion(store, params.datasetCid, params.recipe.tokenizer)
  const tokensRoot = tokensRootOf(tokens)
  return {
    datasetCid: params.datasetCid, tokensRoot, recipeCid: recipeCid.toString(), programHash: compileProgram(engine, params.recipe, await baseWeightsOf(store.blocks, params.recipe)).hash,
    modelHeader: modelHeaderOf(params.recipe, tokensRoot),
    seed: BigInt(params.recipe.seed), steps: params.recipe.steps, reward: params.reward, jobStake: params.jobStake,
    trainingTime: params.trainingTime ?? 3600n, challengeWindow: params.challengeWindow ?? 3600n
  }
}

export async function requesterPost (ctx: Context, params: PostJobParams): Promise<bigint> {
  const spec = await jobSpecFor(ctx.engine, ctx.store, params)
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
export async function verifyModel (ctx: Context, jobId: bigint): Promise<ModelCheck> {
  const job = await readJob(ctx.clients, ctx.options.deployment, jobId)
  const runCid = hexToCid(job.modelCid)
  if (runCid === null) throw new NodeError(`job ${jobId} has no result yet`, { hint: 'wait for a trainer to submit' })
  const dir = join(ctx.options.home, 'models', `job-${jobId}`)
  await fetchVersion(ctx, runCid.toString(), dir)
  const problems: string[] = []
  const records = await readRecords(dir)
  const root = transcriptRootOf(records)
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
