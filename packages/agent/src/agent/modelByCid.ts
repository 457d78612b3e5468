import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { exportGguf } from '@commons/models'
import { exportVersion, parseCid, type Store } from '@commons/store'
import type { NetworkNode } from '@commons/node'
import { ModelFileError } from '../errors.ts'

/** True for what looks like a CID rather than a path (`--model bafy...`). */
export const isModelCid = (ref: string): boolean => /^(baf[a-z2-7]{20,}|Qm[1-9A-HJ-NP-Za-km-z]{44})$/.test(ref)

export interface ModelByCidOptions {
  /** The home's store: the run is read from it, and fetched into it when missing. */
  store: Store
  /** Where GGUFs made from runs are kept, one per CID (`<home>/agent/models`). */
  dir: string
  /** A network to fetch the run from, started only when the store lacks it. */
  network?: () => Promise<Pick<NetworkNode, 'fetchDag'>>
  log?: (line: string) => void
}

/**
 * The GGUF of the Commons run stored under `cid`: fetched from the network if this home
 * does not hold it (every block checked against its CID), exported once and kept, so
 * `--model CID` names a model anyone can fetch and reproduce.
 */
export async function modelByCid (cid: string, options: ModelByCidOptions): Promise<string> {
  const root = parseCid(cid)
  const out = join(options.dir, `${root.toString()}.gguf`)
  if (await stat(out).then(s => s.isFile(), () => false)) return out
  if (!await options.store.blocks.has(root)) {
    if (options.network === undefined) {
      throw new ModelFileError(`this home does not hold the run ${cid}, and no network was given to fetch it`, { hint: 'pass --bootstrap with a peer that holds it', details: { cid } })
    }
    options.log?.(`fetching the run ${cid} from the network...`)
    await (await options.network()).fetchDag(root)
  }
  await mkdir(options.dir, { recursive: true })
  const work = await mkdtemp(join(options.dir, '.export-'))
  try {
    await exportVersion(options.store, root.toString(), join(work, 'run'))
    options.log?.(`exporting ${cid} to GGUF...`)
    // Written aside and renamed: a half-written file is never taken for the model.
    await exportGguf({ run: join(work, 'run'), out: join(work, 'model.gguf') })
    await rename(join(work, 'model.gguf'), out)
    return out
  } catch (error) {
    if ((error as Error).name === 'ModelFileError') throw error
    throw new ModelFileError(`the run ${cid} could not be made a GGUF model: ${(error as Error).message}`, {
      hint: 'pass the CID of a Commons training run (what a job submitted, or commons train --publish)', details: { cid }, cause: error
    })
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
