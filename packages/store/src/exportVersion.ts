import { createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import type { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { listFiles } from './listFiles.ts'
import { readFileContent } from './readFileContent.ts'
import { resolveVersion } from './resolveVersion.ts'
import { readVersion } from './version.ts'
import { ExportTargetError } from './errors.ts'

export interface ExportVersionResult {
  cid: CID
  dir: string
  files: number
  bytes: number
}

/**
 * Writes the files of a version under `dir`, which must not exist yet (or be empty).
 * Files go to a temporary sibling first, renamed into place at the end: a damaged
 * block aborts the export and leaves no partial directory.
 */
export async function exportVersion (store: Store, ref: string, dir: string): Promise<ExportVersionResult> {
  const cid = await resolveVersion(store, ref)
  const target = resolve(dir)
  const existing = await readdir(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null
    throw new ExportTargetError(`cannot export into ${target} (${error.code})`, { details: { dir: target }, cause: error })
  })
  if (existing !== null && existing.length > 0) {
    throw new ExportTargetError(`${target} already exists and is not empty`, {
      hint: 'choose a new directory; export never overwrites files', details: { dir: target }
    })
  }
  const version = await readVersion(store.blocks, cid)
  const files = await listFiles(store.blocks, version.tree)
  const staging = join(dirname(target), `.${Date.now()}-${process.pid}.export-tmp`)
  try {
    for (const file of files) {
      const path = join(staging, ...file.path.split('/'))
      await mkdir(dirname(path), { recursive: true })
      await pipeline(Readable.from(readFileContent(store.blocks, file.cid)), createWriteStream(path))
    }
    await mkdir(staging, { recursive: true })
    if (existing !== null) await rm(target, { recursive: true })
    await rename(staging, target)
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    throw error
  }
  return { cid, dir: target, files: files.length, bytes: files.reduce((sum, f) => sum + f.size, 0) }
}
