import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open as openLmdb, type RootDatabase } from 'lmdb'
import type { CID } from 'multiformats/cid'

export interface SeenCidsOptions {
  /**
   * CIDs kept in memory (a Set, ~80 bytes each) before the set moves to a file on disk
   * (default 2,000,000: ~160 MB, the blocks of ~9 GB of text).
   */
  memoryEntries?: number
  /** Where the file goes (default: the OS temp dir); it is removed when the set closes. */
  dir?: string
}

/** The set's file once it spilled, and the CIDs added since its last write. */
interface SpillFile {
  db: RootDatabase<Uint8Array, Uint8Array>
  dir: string
  recent: Set<string>
}

/** CIDs written to the file at once, in one transaction. */
const WRITE_BATCH = 16_384
const EMPTY = new Uint8Array(0)

/**
 * The CIDs a walk over a DAG has seen, exactly, in bounded memory: a Set while it is
 * small, then a temporary LMDB file (not synced: it dies with the walk), so a walk of
 * a terabyte (some 220 million blocks) does not need 18 GB for its Set. Synchronous,
 * as a walk asks for every link it meets; close it when the walk ends.
 */
export class SeenCids {
  readonly #memoryEntries: number
  readonly #parent: string
  #memory: Set<string> | undefined = new Set()
  #file: SpillFile | undefined
  #size = 0

  constructor (options: SeenCidsOptions = {}) {
    this.#memoryEntries = options.memoryEntries ?? 2_000_000
    this.#parent = options.dir ?? tmpdir()
  }

  get size (): number {
    return this.#size
  }

  /** Whether the set moved to its file. */
  get onDisk (): boolean {
    return this.#file !== undefined
  }

  has (cid: CID): boolean {
    const key = keyOf(cid)
    if (this.#memory !== undefined) return this.#memory.has(key)
    const file = this.#file as SpillFile
    return file.recent.has(key) || file.db.doesExist(Buffer.from(key, 'latin1'))
  }

  /** Adds `cid`; true if it was not in the set before. */
  add (cid: CID): boolean {
    if (this.has(cid)) return false
    const key = keyOf(cid)
    this.#size++
    if (this.#memory !== undefined) {
      this.#memory.add(key)
      if (this.#memory.size > this.#memoryEntries) this.#spill()
      return true
    }
    const file = this.#file as SpillFile
    file.recent.add(key)
    if (file.recent.size >= WRITE_BATCH) this.#write(file.recent)
    return true
  }

  /** Removes the file, if the set made one. */
  async close (): Promise<void> {
    this.#memory = undefined
    const file = this.#file
    this.#file = undefined
    if (file === undefined) return
    await file.db.close()
    rmSync(file.dir, { recursive: true, force: true })
  }

  #spill (): void {
    const dir = mkdtempSync(join(this.#parent, 'commons-seen-'))
    const db = openLmdb<Uint8Array, Uint8Array>({ path: join(dir, 'seen'), keyEncoding: 'binary', encoding: 'binary', compression: false, noSync: true })
    this.#file = { db, dir, recent: new Set() }
    const memory = this.#memory as Set<string>
    this.#memory = undefined
    this.#write(memory)
  }

  /** Writes `keys` to the file in one transaction and empties it. */
  #write (keys: Set<string>): void {
    const { db } = this.#file as SpillFile
    db.transactionSync(() => {
      for (const key of keys) db.putSync(Buffer.from(key, 'latin1'), EMPTY)
    })
    keys.clear()
  }
}

/**
 * A CID as a short flat string: its bytes, one char each (the pack store keys its
 * pending blocks by multihash alone: multihashKey). cid.toString() builds base32 a
 * character at a time, and a walk of a few GB keeps hundreds of thousands of them.
 */
export function keyOf (cid: CID): string {
  return Buffer.from(cid.bytes.buffer, cid.bytes.byteOffset, cid.bytes.byteLength).toString('latin1')
}
