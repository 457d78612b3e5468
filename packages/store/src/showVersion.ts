import type { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { listFiles, type FileEntry } from './listFiles.ts'
import { resolveVersion } from './resolveVersion.ts'
import { readVersion, type Version } from './version.ts'

export interface ShowVersionResult {
  cid: CID
  version: Version
  files: FileEntry[]
  bytes: number
}

/** A version's commit and the files of its tree. */
export async function showVersion (store: Store, ref: string): Promise<ShowVersionResult> {
  const cid = await resolveVersion(store, ref)
  const version = await readVersion(store.blocks, cid)
  const files = await listFiles(store.blocks, version.tree)
  return { cid, version, files, bytes: files.reduce((sum, f) => sum + f.size, 0) }
}
