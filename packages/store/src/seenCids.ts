import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open as openLmdb, type RootDatabase } from 'lmdb'
import type { CID } from 'multiformats/cid'

export interface SeenCidsOptions {
  /**
   * CIDs kept in memory (a Set, ~80 bytes each) before new ones go to a file on disk
   * (default 2,000,000: ~160 MB, the blocks of ~9 GB of text).
   */
  memoryEntries?: number
  /** Where the file is made (default: the OS temp dir; a store passes its own directory, on disk). */
  dir?: string
}

/** The set's file once the memory is full, and the CIDs added since its last write. */
interface SpillFile {
  db: RootDatabase<Uint8Array, Uint8Array>
  dir: string
  /** CIDs written to the file. */
  count: number
  recent: Set<string>
}

/** CIDs written to the file at once, in one transaction. */
const WRITE_BATCH = 16_384
/** Longer keys (a CID with an inline multihash) are stored by their hash: LMDB takes up to 1,978 bytes. */
const MAX_FILE_KEY = 512
const EMPTY = new Uint8Array(0)

/**
 * The CIDs a walk over a DAG has seen, exactly, in bounded memory: a Set of the first
 * `memoryEntries`, then a temporary LMDB file (not synced) for the rest, so a walk of a
 * terabyte (some 220 million blocks) does not need 18 GB for its Set. The file's name
 * is removed as soon as it is open (where the OS allows it: not on Windows), so a walk
 * stopped by Ctrl-C or a crash leaves nothing behind; its space is freed at close or
 * exit. Synchronous, as a walk asks for every link it meets; close it when the walk ends.
 */
export class SeenCids {
  readonly #memoryEntries: number
  readonly #parent: string
  readonly #memory = new Set<string>()
  #file: SpillFile | undefined
  #closed = false

  constructor (options: SeenCidsOptions = {}) {
    this.#memoryEntries = options.memoryEntries ?? 2_000_000
    this.#parent = options.dir ?? tmpdir()
  }

  get size (): number {
    return this.#memory.size + (this.#file === undefined ? 0 : this.#file.count + this.#file.recent.size)
  }

  /** Whether CIDs went to the file. */
  get onDisk (): boolean {
    return this.#file !== undefined
  }

  /**
   * A set for a walk over `blocks`: its file, if it needs one, goes in the store's own
   * temporary directory (PackBlockstore.tempDir, on the store's disk) when it has one.
   */
  static forStore (blocks: object, options: SeenCidsOptions = {}): SeenCids {
    return new SeenCids({ dir: (blocks as { tempDir?: string }).tempDir, ...options })
  }

  has (cid: CID): boolean {
    return this.#has(keyOf(cid))
  }

  /** Adds `cid`; true if it was not in the set before. */
  add (cid: CID): boolean {
    return this.addKey(keyOf(cid))
  }

  /** Adds a CID by its key (keyOf), for a caller that keeps the key too; true if new. */
  addKey (key: string): boolean {
    if (this.#has(key)) return false
    if (this.#closed) throw new Error('the set of CIDs seen is closed')
    if (this.#file === undefined && this.#memory.size < this.#memoryEntries) {
      this.#memory.add(key)
      return true
    }
    const file = this.#file ?? this.#openFile()
    file.recent.add(key)
    if (file.recent.size >= WRITE_BATCH) this.#write(file)
    return true
  }

  /** Frees the memory and the file, if the set made one. */
  async close (): Promise<void> {
    this.#closed = true
    this.#memory.clear()
    const file = this.#file
    this.#file = undefined
    if (file === undefined) return
    await file.db.close()
    rmSync(file.dir, { recursive: true, force: true })
  }

  #has (key: string): boolean {
    if (this.#memory.has(key)) return true
    const file = this.#file
    return file !== undefined && (file.recent.has(key) || file.db.doesExist(fileKey(key)))
  }

  #openFile (): SpillFile {
    mkdirSync(this.#parent, { recursive: true })
    const dir = mkdtempSync(join(this.#parent, 'commons-seen-'))
    const db = openLmdb<Uint8Array, Uint8Array>({ path: join(dir, 'seen'), keyEncoding: 'binary', encoding: 'binary', compression: false, noSync: true })
    // Open files stay usable once unlinked: nothing is left if the process never closes the set.
    if (process.platform !== 'win32') rmSync(dir, { recursive: true, force: true })
    const file: SpillFile = { db, dir, count: 0, recent: new Set() }
    this.#file = file
    return file
  }

  /** Writes the CIDs added since the last write, in one transaction. */
  #write (file: SpillFile): void {
    file.db.transactionSync(() => {
      for (const key of file.recent) file.db.putSync(fileKey(key), EMPTY)
    })
    file.count += file.recent.size
    file.recent.clear()
  }
}

/** A key as the file stores it: its bytes, or a 0 byte and its sha-256 if long (no CID starts with 0). */
function fileKey (key: string): Buffer {
  const bytes = Buffer.from(key, 'latin1')
  return bytes.length <= MAX_FILE_KEY ? bytes : Buffer.concat([Buffer.of(0), createHash('sha256').update(bytes).digest()])
}

/**
 * A CID as a short flat string: its bytes, one char each (the pack store keys its
 * pending blocks by multihash alone: multihashKey). cid.toString() builds base32 a
 * character at a time, and a walk of a few GB keeps hundreds of thousands of them.
 */
export function keyOf (cid: CID): string {
  return Buffer.from(cid.bytes.buffer, cid.bytes.byteOffset, cid.bytes.byteLength).toString('latin1')
}
