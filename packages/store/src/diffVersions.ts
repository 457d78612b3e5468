import type { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { listFiles, type FileEntry } from './listFiles.ts'
import { readFileBytes } from './readFileContent.ts'
import { diffRecords, recordKindFor, splitRecords, type RecordKind } from './records.ts'
import { resolveVersion } from './resolveVersion.ts'
import { readVersion } from './version.ts'

export interface FileDiff {
  path: string
  status: 'added' | 'removed' | 'changed'
  /** Rows for JSONL/CSV/TSV, lines for other text, nothing for binary files. */
  kind: RecordKind
  bytesBefore: number
  bytesAfter: number
  added: number
  removed: number
  addedSample: string[]
  removedSample: string[]
}

export interface DiffVersionsResult {
  from: CID
  to: CID
  files: FileDiff[]
  unchanged: number
}

/**
 * What changed from version `from` to version `to`: files added, removed and
 * changed, and for text the records added and removed. Files with equal CIDs are
 * equal and never read.
 */
export async function diffVersions (store: Store, fromRef: string, toRef: string, sampleSize = 10): Promise<DiffVersionsResult> {
  const from = await resolveVersion(store, fromRef)
  const to = await resolveVersion(store, toRef)
  const before = new Map((await filesOf(store, from)).map(f => [f.path, f]))
  const after = new Map((await filesOf(store, to)).map(f => [f.path, f]))
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort()
  const files: FileDiff[] = []
  let unchanged = 0
  for (const path of paths) {
    const a = before.get(path)
    const b = after.get(path)
    if (a !== undefined && b !== undefined && a.cid.equals(b.cid)) { unchanged++; continue }
    files.push(await diffFile(store, path, a, b, sampleSize))
  }
  return { from, to, files, unchanged }
}

async function filesOf (store: Store, cid: CID): Promise<FileEntry[]> {
  return listFiles(store.blocks, (await readVersion(store.blocks, cid)).tree)
}

async function diffFile (store: Store, path: string, a: FileEntry | undefined, b: FileEntry | undefined, sampleSize: number): Promise<FileDiff> {
  const old = a === undefined ? Buffer.alloc(0) : await readFileBytes(store.blocks, a.cid)
  const neu = b === undefined ? Buffer.alloc(0) : await readFileBytes(store.blocks, b.cid)
  const kind = recordKindFor(path, neu.length > 0 ? neu : old)
  const status = a === undefined ? 'added' : b === undefined ? 'removed' : 'changed'
  const base = { path, status, kind, bytesBefore: old.length, bytesAfter: neu.length } as const
  if (kind === 'binary') return { ...base, added: 0, removed: 0, addedSample: [], removedSample: [] }
  const csv = /\.(csv|tsv)$/i.test(path)
  return { ...base, ...diffRecords(splitRecords(old.toString('utf8'), csv), splitRecords(neu.toString('utf8'), csv), sampleSize) }
}
