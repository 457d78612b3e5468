import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import lockfile from 'proper-lockfile'
import writeFileAtomic from 'write-file-atomic'
import { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { DamagedRefError, DatasetNotFoundError, EmptyDatasetError, InvalidDatasetNameError } from './errors.ts'
import { flushBlocks } from './packBlockstore.ts'

/** What a home knows about one dataset: its name, head and where it came from. */
export interface DatasetRef {
  name: string
  /** Newest version, or null before the first commit. */
  head: CID | null
  created: string
  forkOf?: { name: string, at: CID }
}

interface DatasetRefJson {
  name: string
  head: string | null
  created: string
  forkOf?: { name: string, at: string }
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i

export function isDatasetName (name: string): boolean {
  return NAME.test(name) && !name.endsWith('.lock')
}

export function checkDatasetName (name: string): void {
  if (!isDatasetName(name)) {
    throw new InvalidDatasetNameError(`"${name}" is not a valid dataset name`, {
      hint: 'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
      details: { name }
    })
  }
}

function refPath (store: Store, name: string): string {
  return join(store.datasetsDir, `${name}.json`)
}

/** Reads a dataset's ref, or null when the dataset does not exist. */
export async function findDataset (store: Store, name: string): Promise<DatasetRef | null> {
  checkDatasetName(name)
  let text: string
  try {
    text = await readFile(refPath(store, name), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  try {
    const json = JSON.parse(text) as DatasetRefJson
    if (typeof json !== 'object' || json === null || json.name !== name || typeof json.created !== 'string') throw new Error('not a dataset ref')
    return {
      name: json.name,
      head: json.head === null ? null : CID.parse(json.head),
      created: json.created,
      ...(json.forkOf !== undefined ? { forkOf: { name: json.forkOf.name, at: CID.parse(json.forkOf.at) } } : {})
    }
  } catch (cause) {
    throw new DamagedRefError(`the ref of dataset "${name}" (${refPath(store, name)}) is damaged: ${(cause as Error).message}`, {
      hint: 'restore the file from a backup, or delete it to drop the dataset (its blocks stay in the store)',
      details: { name, path: refPath(store, name) }, cause
    })
  }
}

export async function readDataset (store: Store, name: string): Promise<DatasetRef> {
  const ref = await findDataset(store, name)
  if (ref === null) {
    throw new DatasetNotFoundError(`dataset "${name}" does not exist in ${store.home}`, {
      hint: `run commons dataset init ${name}, or commons dataset list`,
      details: { name, home: store.home }
    })
  }
  return ref
}

/** The head of a dataset, which must have at least one version. */
export async function readHead (store: Store, name: string): Promise<CID> {
  const ref = await readDataset(store, name)
  if (ref.head === null) {
    throw new EmptyDatasetError(`dataset "${name}" has no versions yet`, {
      hint: `run commons dataset commit ${name} PATH -m MESSAGE`,
      details: { name }
    })
  }
  return ref.head
}

/** Writes a ref atomically (temp file + fsync + rename): readers see old or new, never half. */
export async function writeDataset (store: Store, ref: DatasetRef): Promise<void> {
  const json: DatasetRefJson = {
    name: ref.name,
    head: ref.head?.toString() ?? null,
    created: ref.created,
    ...(ref.forkOf !== undefined ? { forkOf: { name: ref.forkOf.name, at: ref.forkOf.at.toString() } } : {})
  }
  // A ref names blocks: they are on disk before it is (the pack store writes behind).
  await flushBlocks(store.blocks)
  await writeFileAtomic(refPath(store, ref.name), JSON.stringify(json, null, 2) + '\n')
}

/**
 * Runs `update` while holding the lock of dataset `name`, across processes. A lock
 * left by a crashed process goes stale after 10 s and is taken over.
 */
export async function withDatasetLock<T> (store: Store, name: string, update: () => Promise<T>): Promise<T> {
  checkDatasetName(name)
  const release = await lockfile.lock(refPath(store, name), {
    realpath: false,
    stale: 10_000,
    retries: { retries: 100, factor: 1.2, minTimeout: 10, maxTimeout: 200 }
  })
  try {
    return await update()
  } finally {
    await release()
  }
}
