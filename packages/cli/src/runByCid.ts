import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { exportVersion, type Store } from '@commons/store'

/** What fetching needs of a network: started only when the home lacks the run. */
export interface RunFetcher {
  fetchDag(cid: string, options?: { timeoutMs?: number }): Promise<unknown>
}

/**
 * The run directory of a published run `cid` (what `serve --model CID` serves and `infer
 * --verify` replays with): `<dir>/<cid>`, exported from this home's store once; its blocks
 * are fetched from the network first (each checked against its CID) when the home does
 * not hold them. Exported aside and renamed, so a half-written run is never taken for one.
 */
export async function runByCid (cid: string, options: { store: Store, dir: string, network: () => Promise<RunFetcher>, log?: (line: string) => void }): Promise<string> {
  const out = join(options.dir, cid)
  if (await stat(join(out, 'model.safetensors')).then(s => s.isFile(), () => false)) return out
  if (!await options.store.blocks.has(CID.parse(cid))) {
    options.log?.(`fetching the run ${cid} from the network`)
    await (await options.network()).fetchDag(cid, { timeoutMs: 120_000 })
  }
  await mkdir(options.dir, { recursive: true })
  const work = await mkdtemp(join(options.dir, '.export-'))
  try {
    await exportVersion(options.store, cid, join(work, 'run'))
    await rm(out, { recursive: true, force: true })
    await rename(join(work, 'run'), out)
    return out
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
