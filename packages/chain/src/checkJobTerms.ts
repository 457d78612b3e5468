import { BaseError } from '@commons/errors'
import { compileProgram, type EngineContext, type Recipe, type Tensor } from '@commons/engine'
import { parseEther, type Hex } from 'viem'
import { modelHeaderOf } from './modelHeader.ts'

/**
 * A job's terms are whatever its requester posted, and the dispute game judges a trainer
 * against them: the program hash, the seed, the steps, the tokens root, the model header. A trainer that
 * trained anything else could be slashed although it trained honestly, so a node claims
 * only a job whose every term it checked, and trains with the job's own terms.
 */
export class JobTermsError extends BaseError {
  override name = 'JobTermsError'
}

/** A node's limits on the jobs it takes (its own business, not the contract's). */
export interface JobPolicy {
  /** Longest challenge window (seconds) the node lets its stake be locked for after submitting. */
  maxChallengeWindow: bigint
  /** Longest claim (seconds): how long a job may keep the stake locked before submission. */
  maxTrainingTime: bigint
  /** Most training steps. */
  maxSteps: number
  /** Smallest reward (token units) worth the work. */
  minReward: bigint
}

export const DEFAULT_JOB_POLICY: JobPolicy = {
  maxChallengeWindow: 7n * 24n * 3600n,
  maxTrainingTime: 7n * 24n * 3600n,
  maxSteps: 100_000,
  minReward: parseEther('1')
}

/** The terms of a job as the market keeps them (`readJob(...).spec`). */
export interface PostedTerms {
  tokensRoot: Hex
  programHash: Hex
  modelHeader: Hex
  seed: bigint
  steps: number
  reward: bigint
  trainingTime: bigint
  challengeWindow: bigint
}

/** Refuses a job outside `policy`; `details.term` names the term. */
export function checkJobPolicy (jobId: bigint, terms: PostedTerms, policy: JobPolicy = DEFAULT_JOB_POLICY): void {
  const refuse = (term: string, value: unknown, limit: unknown): never => {
    throw new JobTermsError(`job ${jobId}: ${term} ${String(value)} is outside this node's policy (${String(limit)})`, {
      hint: 'raise the limit in the node\'s settings to take such jobs', details: { jobId, term, value: String(value), limit: String(limit) }
    })
  }
  if (terms.challengeWindow > policy.maxChallengeWindow) refuse('challengeWindow', terms.challengeWindow, policy.maxChallengeWindow)
  if (terms.trainingTime > policy.maxTrainingTime) refuse('trainingTime', terms.trainingTime, policy.maxTrainingTime)
  if (terms.steps > policy.maxSteps) refuse('steps', terms.steps, policy.maxSteps)
  if (terms.reward < policy.minReward) refuse('reward', terms.reward, policy.minReward)
}

/**
 * Checks a job's terms against its recipe (fetched by the job's recipe CID) and the
 * tokens root of its dataset (fetched and tokenized by the job's dataset CID), and
 * returns the recipe to train: the job's recipe with the job's seed and steps. The
 * program hash must be that recipe's compiled program, so what the game judges is
 * exactly what the engine runs; for a fine-tuning recipe it binds the base weights
 * (fetched by `recipe.base`), so weights other than the requester's are refused here.
 * `details.term` names the first term that fails.
 */
export function checkJobTerms (engine: EngineContext, jobId: bigint, terms: PostedTerms, recipe: Recipe, tokensRoot: Hex, base?: readonly Tensor[]): Recipe {
  const refuse = (term: string, posted: unknown, actual: unknown): never => {
    throw new JobTermsError(`job ${jobId}: its ${term} ${String(posted)} does not match its recipe and dataset (${String(actual)})`, {
      hint: 'the requester posted inconsistent terms; the job is not claimed', details: { jobId, term, posted: String(posted), actual: String(actual) }
    })
  }
  if (terms.seed > BigInt(Number.MAX_SAFE_INTEGER)) refuse('seed', terms.seed, `at most ${Number.MAX_SAFE_INTEGER}`)
  if (terms.steps < 1) refuse('steps', terms.steps, 'at least 1')
  if (terms.tokensRoot.toLowerCase() !== tokensRoot.toLowerCase()) refuse('tokensRoot', terms.tokensRoot, tokensRoot)
  const jobRecipe: Recipe = { ...recipe, seed: Number(terms.seed), steps: terms.steps }
  let programHash: string
  try {
    programHash = compileProgram(engine, jobRecipe, base).hash
  } catch (cause) {
    throw new JobTermsError(`job ${jobId}: its recipe does not compile to a step program`, { details: { jobId, term: 'recipe' }, cause })
  }
  if (programHash.toLowerCase() !== terms.programHash.toLowerCase()) refuse('programHash', terms.programHash, programHash)
  // The header the trainer's model file will have: a wrong one would be slashed.
  const modelHeader = modelHeaderOf(jobRecipe, tokensRoot)
  if (modelHeader.toLowerCase() !== terms.modelHeader.toLowerCase()) refuse('modelHeader', terms.modelHeader, modelHeader)
  return jobRecipe
}
