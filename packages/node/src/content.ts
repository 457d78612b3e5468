import { rm } from 'node:fs/promises'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { checkJobTerms, hexToCid, JobTermsError, readJob } from '@commons/chain'
import { parseRecipe, tokensRootOf } from '@commons/engine'
import { commitVersion, exportVersion, getVerifiedBlock, initDataset, tokenizeVersion, type Store } from '@commons/store'
import { timed, type Context, type JobInputs } from './context.ts'

/** Content by CID: recipes as raw blocks, versions (datasets, runs, traces) as DAGs. */

const fetchTimeout = (ctx: Context): number => ctx.options.fetchTimeoutMs ?? 60_000

/** Stores bytes as one raw block; returns its CID (what a recipe is referenced by). */
export async function putRaw (store: Store, bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(raw.code, await sha256.digest(bytes))
  await store.blocks.put(cid, bytes)
  return cid
}

export async function getRaw (ctx: Context, cid: CID): Promise<Uint8Array> {
  await timed(ctx, 'transfer', async () => ctx.network.fetchDag(cid, { timeoutMs: fetchTimeout(ctx) }))
  return getVerifiedBlock(ctx.store.blocks, cid)
}

/** Commits a directory as the next version of a named dataset of this node's store. */
export async function publishDir (store: Store, name: string, dir: string, message: string): Promise<string> {
  await initDataset(store, name).catch(() => {})
  const { cid } = await commitVersion(store, { name, path: dir, message, author: 'commons-node', time: 0 })
  return cid.toString()
}

/** Fetches a version by CID over the network and exports it into `dir`. */
export async function fetchVersion (ctx: Context, cid: string, dir: string): Promise<void> {
  await timed(ctx, 'transfer', async () => {
    await ctx.network.fetchDag(cid, { timeoutMs: fetchTimeout(ctx) })
    await rm(dir, { recursive: true, force: true })
    await exportVersion(ctx.store, cid, dir)
  })
}

/**
 * A job's recipe and tokens, every term checked (checkJobTerms): the recipe and the
 * dataset are fetched by the job's CIDs, the tokens root and the program hash must be
 * theirs, and the recipe returned carries the job's seed and steps. Any failure is a
 * JobTermsError whose `details.term` names what is wrong.
 */
export async function jobInputs (ctx: Context, jobId: bigint): Promise<JobInputs> {
  const key = String(jobId)
  const known = ctx.inputs.get(key)
  if (known !== undefined) return known
  const loading = loadInputs(ctx, jobId)
  ctx.inputs.set(key, loading)
  loading.catch(() => { ctx.inputs.delete(key) })
  return loading
}

async function loadInputs (ctx: Context, jobId: bigint): Promise<JobInputs> {
  const job = await readJob(ctx.clients, ctx.options.deployment, jobId)
  const refuse = (term: string, why: string, cause?: unknown): never => {
    throw new JobTermsError(`job ${jobId}: ${why}`, { hint: 'the job is not claimed', details: { jobId, term }, cause })
  }
  const recipeCid = hexToCid(job.spec.recipeCid)
  const datasetCid = hexToCid(job.spec.datasetCid)
  if (recipeCid === null) refuse('recipe', 'its recipe CID is not a CID')
  if (datasetCid === null) refuse('dataset', 'its dataset CID is not a CID')
  let bytes: Uint8Array
  try {
    bytes = await getRaw(ctx, recipeCid as CID)
  } catch (cause) {
    return refuse('recipe', `its recipe ${String(recipeCid)} could not be fetched`, cause)
  }
  let recipe
  try {
    recipe = parseRecipe(JSON.parse(Buffer.from(bytes).toString('utf8')), `recipe ${String(recipeCid)}`)
  } catch (cause) {
    return refuse('recipe', `its recipe ${String(recipeCid)} is not a valid recipe`, cause)
  }
  let tokens: Int32Array
  try {
    await timed(ctx, 'transfer', async () => ctx.network.fetchDag(datasetCid as CID, { timeoutMs: fetchTimeout(ctx) }))
    tokens = (await tokenizeVersion(ctx.store, String(datasetCid), recipe.tokenizer)).tokens
  } catch (cause) {
    return refuse('dataset', `its dataset ${String(datasetCid)} could not be fetched or read`, cause)
  }
  return { recipe: checkJobTerms(ctx.engine, jobId, job.spec, recipe, tokensRootOf(tokens)), tokens }
}
