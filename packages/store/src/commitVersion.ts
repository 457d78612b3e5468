import { userInfo } from 'node:os'
import type { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { importTree, type ImportOptions } from './importTree.ts'
import { readDataset, withDatasetLock, writeDataset } from './refs.ts'
import { putVersion, readVersion, type Version } from './version.ts'
import { InvalidTimeError, NothingToCommitError } from './errors.ts'
import { commitWriter } from './commitWriter.ts'

export interface CommitVersionParams {
  name: string
  /** A file or a directory to snapshot. */
  path: string
  message: string
  /** Defaults to `$COMMONS_AUTHOR`, else the OS user name. */
  author?: string
  /** Seconds since the epoch; defaults to `$SOURCE_DATE_EPOCH`, else now. */
  time?: number
  onProgress?: ImportOptions['onProgress']
  /** How files are cut into blocks; `ipfs-add` gives each file the CID `ipfs add --cid-version=1` gives it. */
  layout?: ImportOptions['layout']
  /** Worker threads that cut and hash files (see ImportOptions). */
  threads?: ImportOptions['threads']
}

export interface CommitVersionResult {
  cid: CID
  version: Version
  files: number
  bytes: number
}

/**
 * Snapshots `path` as the next version of a dataset. The files are stored first
 * (no lock needed: blocks are content-addressed); the ref moves under the dataset's
 * lock, so two concurrent commits both land, one after the other.
 */
export async function commitVersion (store: Store, params: CommitVersionParams): Promise<CommitVersionResult> {
  if (params.time !== undefined) checkCommitTime(params.time)
  await readDataset(store, params.name)
  // Blocks are written behind the import; writeDataset flushes them before the ref moves.
  const imported = await importTree(commitWriter(store.blocks), params.path, { onProgress: params.onProgress, layout: params.layout, threads: params.threads })
  return withDatasetLock(store, params.name, async () => {
    const ref = await readDataset(store, params.name)
    if (ref.head !== null && (await readVersion(store.blocks, ref.head)).tree.equals(imported.tree)) {
      throw new NothingToCommitError(`nothing to commit: ${params.path} is the same as the head of "${params.name}"`, {
        details: { name: params.name, head: ref.head.toString() }
      })
    }
    const version: Version = {
      parents: ref.head === null ? [] : [ref.head],
      tree: imported.tree,
      message: params.message,
      author: params.author ?? process.env.COMMONS_AUTHOR ?? userInfo().username,
      time: params.time ?? defaultTime()
    }
    const cid = await putVersion(store.blocks, version)
    await writeDataset(store, { ...ref, head: cid })
    return { cid, version, files: imported.files, bytes: imported.bytes }
  })
}

/** 9999-12-31T23:59:59Z: the last second a date prints as (and the history stays readable). */
export const MAX_COMMIT_TIME = 253_402_300_799

/** A commit time is whole seconds from 1970 to the end of the year 9999. */
export function checkCommitTime (time: number): void {
  if (!Number.isInteger(time) || time < 0 || time > MAX_COMMIT_TIME) {
    throw new InvalidTimeError(`commit time ${time} is not whole seconds between 1970 and the year 9999`, {
      hint: `pass --time (or SOURCE_DATE_EPOCH) as Unix seconds from 0 to ${MAX_COMMIT_TIME}`, details: { time }
    })
  }
}

function defaultTime (): number {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH)
  return Number.isInteger(epoch) && epoch >= 0 && epoch <= MAX_COMMIT_TIME ? epoch : Math.floor(Date.now() / 1000)
}
