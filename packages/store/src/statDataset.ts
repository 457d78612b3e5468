import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { blockstoreDir, type Store } from './store.ts'
import { listFiles } from './listFiles.ts'
import { logDataset } from './logDataset.ts'
import { walkDag } from './walkDag.ts'

export interface DatasetStats {
  versions: number
  /** Sum of the file sizes of every version: what copying each version would cost. */
  logicalBytes: number
  /** Bytes of the blockstore's pack files (every block of the home, all datasets). */
  storedBytes: number
  /** Bytes of the distinct blocks this dataset's versions reach. */
  reachableBytes: number
}

/** Sizes of a dataset, with and without deduplication. */
export async function statDataset (store: Store, name: string): Promise<DatasetStats> {
  const log = await logDataset(store, name)
  let logicalBytes = 0
  for (const entry of log) {
    for (const file of await listFiles(store.blocks, entry.version.tree)) logicalBytes += file.size
  }
  const walk = await walkDag(store.blocks, log.map(entry => entry.cid))
  return { versions: log.length, logicalBytes, storedBytes: await directorySize(join(blockstoreDir(store.home), 'packs')), reachableBytes: walk.bytes }
}

async function directorySize (dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size
  }
  return total
}
