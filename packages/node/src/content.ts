import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { baseWeightsOf, loadJobInputs, readJob, type JobInputs } from '@commons/chain'
import type { Tensor } from '@commons/engine'
import { commitVersion, exportVersion, getVerifiedBlock, initDataset, openStore, openTokenStream, type Store } from '@commons/store'
import { DEFAULT_JOB_FETCH_TIMEOUT_MS } from './constants.ts'
import { timed, type Context } from './context.ts'
import type { FetchDagOptions } from './fetchDag.ts'

/** Content by CID: recipes as raw blocks, versions (datasets, runs, traces) as DAGs. */

/** A job's content may take a while to arrive; none of it is waited for once the node stops. */
export const fetchOptions = (ctx: Context): FetchDagOptions => ({ timeoutMs: ctx.options.fetchTimeoutMs ?? DEFAULT_JOB_FETCH_TIMEOUT_MS, signal: ctx.stopping })

export async function getRaw (ctx: Context, cid: CID): Promise<Uint8Array> {
  await timed(ctx, 'transfer', async () => ctx.network.fetchDag(cid, fetchOptions(ctx)))
  return getVerifiedBlock(ctx.store.blocks, cid)
}

/** Commits a directory as the next version of a named dataset of this node's store. */
export async function publishDir (store: Store, name: string, dir: string, message: string): Promise<string> {
  await initDataset(store, name).catch(() => {})
  const { cid } = await commitVersion(store, { name, path: dir, message, author: 'commons-node', time: 0 })
  return cid.toString()
}

/**
 * The CID publishDir would give a directory, with none of its blocks kept: what a trainer
 * with the `hide` fault submits (testing), so that no peer can fetch its run.
 */
export async function unpublishedCid (home: string, name: string, dir: string, message: string): Promise<string> {
  const scratch = await mkdtemp(join(home, 'hidden-'))
  const store = await openStore(scratch)
  try {
    return await publishDir(store, name, dir, message)
  } finally {
    await store.close()
    await rm(scratch, { recursive: true, force: true })
  }
}

/** Fetches a version by CID over the network and exports it into `dir`. */
export async function fetchVersion (ctx: Context, cid: string, dir: string): Promise<void> {
  await timed(ctx, 'transfer', async () => {
    await ctx.network.fetchDag(cid, fetchOptions(ctx))
    await rm(dir, { recursive: true, force: true })
    await exportVersion(ctx.store, cid, dir)
  })
}

/**
 * A job's recipe and tokens, every term checked (loadJobInputs in @commons/chain), had
 * over the network into this node's store; loaded once per job. The tokens are a stored
 * stream with a file open: closeJobInputs closes them when the node stops.
 */
export async function jobInputs (ctx: Context, jobId: bigint): Promise<JobInputs> {
  const key = String(jobId)
  const known = ctx.inputs.get(key)
  if (known !== undefined) return known
  const loading = readJob(ctx.clients, ctx.options.deployment, jobId).then(async job => loadJobInputs(ctx.engine, jobId, job.spec, {
    recipe: async cid => getRaw(ctx, cid),
    tokens: async (cid, tokenizer) => {
      await timed(ctx, 'transfer', async () => ctx.network.fetchDag(cid, fetchOptions(ctx)))
      // A BPE's tokenizer.json is a raw block like the recipe: fetched into the store first.
      const tokenizerJson = tokenizer === 'byte' ? null : await getRaw(ctx, CID.parse(tokenizer))
      // The stored stream of <home>/tokens (written once per version and tokenizer, in
      // bounded memory): training, replay and disputes read its windows, and its root
      // is the one recorded as it was written.
      const tokens = await openTokenStream(ctx.store, String(cid), tokenizer)
      return { tokens, tokenizerJson }
    },
    base: async (cid, recipe) => {
      await timed(ctx, 'transfer', async () => ctx.network.fetchDag(cid, fetchOptions(ctx)))
      return await baseWeightsOf(ctx.store.blocks, recipe) as Tensor[]
    }
  }))
  ctx.inputs.set(key, loading)
  loading.catch(() => { ctx.inputs.delete(key) })
  return loading
}

/** Closes the token streams of the jobs this node loaded (their files stay in <home>/tokens). */
export async function closeJobInputs (ctx: Context): Promise<void> {
  for (const loading of ctx.inputs.values()) {
    const tokens = (await loading.catch(() => null))?.tokens
    if (tokens !== undefined && 'close' in tokens && typeof tokens.close === 'function') tokens.close()
  }
  ctx.inputs.clear()
}
