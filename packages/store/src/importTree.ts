import { createReadStream } from 'node:fs'
import { open, readdir, stat } from 'node:fs/promises'
import { basename, join, relative, sep } from 'node:path'
import { importer, type ImporterOptions } from 'ipfs-unixfs-importer'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { IMPORT_OPTIONS, IPFS_ADD_IMPORT_OPTIONS, chunkParamsFor, type ImportLayout } from './chunking.ts'
import { fastCdcChunks } from './fastcdc.ts'
import { ChunkerPool } from './chunkerPool.ts'
import { pooledFileBuilder } from './pooledFileBuilder.ts'
import { PathNotFoundError, UnreadableFileError } from './errors.ts'

export interface ImportTreeResult {
  /** Root of the UnixFS directory. */
  tree: CID
  files: number
  bytes: number
}

interface SourceFile {
  /** Path inside the tree, with `/` separators. */
  path: string
  absolute: string
  size: number
}

/**
 * Lists and checks every file under `path` before anything is written: a missing or
 * unreadable file fails the import with nothing stored. A single file becomes a
 * directory holding it under its own name.
 */
export async function listSourceFiles (path: string): Promise<SourceFile[]> {
  const info = await stat(path).catch((cause: NodeJS.ErrnoException) => {
    throw new PathNotFoundError(`${path} does not exist or cannot be read (${cause.code})`, {
      hint: 'pass an existing file or directory', details: { path }, cause
    })
  })
  const files: SourceFile[] = []
  if (info.isFile()) {
    files.push({ path: basename(path), absolute: path, size: info.size })
  } else if (info.isDirectory()) {
    await walk(path, path, files)
  } else {
    throw new UnreadableFileError(`${path} is neither a file nor a directory`, { details: { path } })
  }
  for (const file of files) await checkReadable(file.absolute)
  return files.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
}

async function walk (root: string, dir: string, files: SourceFile[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const absolute = join(dir, entry.name)
    // stat follows symlinks: a link to a file is stored as the file's content.
    const info = await stat(absolute).catch((cause: NodeJS.ErrnoException) => {
      throw new UnreadableFileError(`cannot read ${absolute} (${cause.code})`, {
        hint: 'fix or remove it, then commit again', details: { path: absolute }, cause
      })
    })
    if (info.isDirectory()) {
      await walk(root, absolute, files)
    } else if (info.isFile()) {
      files.push({ path: relative(root, absolute).split(sep).join('/'), absolute, size: info.size })
    } else {
      throw new UnreadableFileError(`${absolute} is not a regular file`, {
        hint: 'datasets hold regular files and directories only; move it out of the way', details: { path: absolute }
      })
    }
  }
}

async function checkReadable (path: string): Promise<void> {
  try {
    await (await open(path, 'r')).close()
  } catch (cause) {
    throw new UnreadableFileError(`cannot read ${path} (${(cause as NodeJS.ErrnoException).code})`, {
      hint: 'fix its permissions, then commit again', details: { path }, cause
    })
  }
}

/**
 * Stores the files under `path` as a UnixFS directory of FastCDC-chunked files and
 * returns its root. Content-addressed writes are idempotent, so this needs no lock.
 */
export async function importTree (blocks: Pick<Blockstore, 'put'>, path: string, options: ImportOptions = {}): Promise<ImportTreeResult> {
  const files = await listSourceFiles(path)
  if (files.length === 0) {
    throw new PathNotFoundError(`${path} holds no files`, { hint: 'a version needs at least one file', details: { path } })
  }
  const bytes = files.reduce((sum, f) => sum + f.size, 0)
  let done = 0
  const onBytes = (read: number): void => {
    done += read
    options.onProgress?.(done, bytes)
  }
  const threads = options.threads ?? (bytes < POOL_MIN_BYTES ? 0 : undefined)
  if ((options.layout ?? 'commons') === 'commons' && threads !== 0) {
    return { tree: await importPooled(blocks, files, threads, onBytes), files: files.length, bytes }
  }
  const counted = async function * (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const piece of source) {
      onBytes(piece.length)
      yield piece
    }
  }
  const tree = await importFiles(blocks, files.map(file => ({
    path: file.path,
    content: counted(createReadStream(file.absolute, { highWaterMark: 1 << 20 }))
  })), options.layout)
  return { tree, files: files.length, bytes }
}

/**
 * The commons layout with files cut and hashed in worker threads (ChunkerPool): the
 * importer builds only the directories, each file's tree is built from the workers'
 * chunks by pooledFileBuilder. Same CIDs as importFiles, which cuts in this thread.
 */
async function importPooled (blocks: Pick<Blockstore, 'put'>, files: SourceFile[], threads: number | undefined, onBytes: (bytes: number) => void): Promise<CID> {
  const pool = new ChunkerPool(threads)
  const sources = new Map(files.map(file => [file.path, file]))
  try {
    const options = {
      ...IMPORT_OPTIONS,
      fileBuilder: pooledFileBuilder(pool, path => sources.get(path) as SourceFile, onBytes),
      // Enough files at once to keep every worker busy; each holds a few batches at most.
      fileImportConcurrency: pool.threads + 1
    }
    return await runImporter(blocks, files.map(file => ({ path: file.path, content: NO_CONTENT })), options)
  } finally {
    await pool.close()
  }
}

/** The importer wants content for a file entry; pooledFileBuilder reads the file itself. */
const NO_CONTENT: Uint8Array[] = []

/**
 * Below this many bytes a commit cuts in the main thread unless told otherwise:
 * starting a worker (a fresh isolate loading its modules) costs more than it saves.
 */
export const POOL_MIN_BYTES = 64 << 20

export interface ImportOptions {
  /** How files are cut into blocks (default `commons`; see `ImportLayout`). */
  layout?: ImportLayout
  /** Called as file bytes are read: bytes so far, bytes in all. */
  onProgress?: (done: number, total: number) => void
  /** Worker threads that cut and hash (commons layout); 0 cuts in this thread. Default: defaultChunkerThreads(), or 0 below POOL_MIN_BYTES. */
  threads?: number
}

export interface FileContent {
  /** Path inside the tree, with `/` separators. */
  path: string
  content: AsyncIterable<Uint8Array> | Iterable<Uint8Array>
}

/** Stores files given as byte streams as one UnixFS directory; returns its root. */
export async function importFiles (blocks: Pick<Blockstore, 'put'>, files: FileContent[], layout: ImportLayout = 'commons'): Promise<CID> {
  const source = layout === 'ipfs-add' ? files : files.map(file => ({ path: file.path, content: fastCdcChunks(file.content, chunkParamsFor(file.path)) }))
  return runImporter(blocks, source, layout === 'ipfs-add' ? IPFS_ADD_IMPORT_OPTIONS : IMPORT_OPTIONS)
}

async function runImporter (blocks: Pick<Blockstore, 'put'>, source: FileContent[], options: ImporterOptions): Promise<CID> {
  let root: CID | undefined
  for await (const entry of importer(source, blocks, options)) {
    if (entry.path === '' || entry.path === undefined) root = entry.cid
  }
  if (root === undefined) throw new Error('importer produced no root directory')
  return root
}
