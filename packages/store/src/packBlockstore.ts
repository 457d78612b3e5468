import { randomBytes } from 'node:crypto'
import { mkdir, open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { BaseBlockstore } from 'blockstore-core'
import { NotFoundError } from 'interface-store'
import type { Blockstore, Pair } from 'interface-blockstore'
import { open as openLmdb, type Database } from 'lmdb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { compactPacks, type CompactOptions, type CompactResult } from './compactPacks.ts'
import { decodeLocation, encodeLocation, INDEX_MAP, LOCATION_BYTES, markWriter, packPath, PACK_ID_BYTES, syncDir, syncPack, unmarkWriter, type Pack } from './packFiles.ts'
import { alignUp, appendParts, openDirect } from './packAppend.ts'

export interface PackBlockstoreInit {
  /** A group of blocks is written at once when it reaches this many bytes (else at the next turn of the event loop). */
  groupBytes?: number
  /** put returns before its block is written while fewer than this many bytes wait; past it, put waits. */
  windowBytes?: number
  /** A pack file is closed for writing past this size and a new one started. */
  packBytes?: number
  /** Groups written at once, each into a pack file of its own. */
  lanes?: number
  /** Large groups are written with direct I/O where the platform has it (packAppend.ts); false writes all through the page cache. */
  direct?: boolean
}

/** Where a block's bytes lie: a pack file (by id) and a byte range in it. */
export interface BlockLocation {
  path: string
  offset: number
  length: number
}

/** A pack file being appended to, by one chain of group writes at a time. */
interface Lane {
  pack: Pack | undefined
  /** Its group writes, one after the other. */
  writing: Promise<void>
  /** Groups queued on it and not yet written. */
  queued: number
}

interface Group {
  /** Its blocks in write order: multihash, multihashKey and length of each. */
  keys: Uint8Array[]
  ids: string[]
  lengths: number[]
  /** The bytes to write, in order: a block's parts, or one view of a run of leaves that lie one after the other. */
  parts: Uint8Array[]
  bytes: number
  done: Promise<void>
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * A blockstore for millions of blocks: block bytes appended to large pack files,
 * found through an LMDB index from multihash to (pack, offset, length). One file per
 * block (blockstore-fs) costs a create, a rename and a directory entry per 4 KiB;
 * here a group of blocks is one write and one index transaction (the puts in flight,
 * or an import's putBehind writes up to a window of bytes).
 *
 * Each open store appends only to pack files of its own (random ids), so several
 * processes (a node and the CLI) share a home safely; LMDB serializes their index
 * writes. A block is indexed only after its bytes are written, so the index never
 * names bytes that were not written; bytes written but not indexed (a crash between)
 * are dead space. flush syncs the packs written since the last one, so a ref moved
 * after it names blocks on disk; an index entry (LMDB syncs each group's) may still
 * name bytes a power loss took before a flush: such a block reads as damaged (callers
 * hash-check), and the next commit that holds it writes it again (skipExistingWriter).
 * Keys are multihashes, as in blockstore-fs: getAll yields raw CIDs.
 * delete drops the index entry; the bytes stay in their pack until `compact`
 * rewrites the pack's live blocks into a new one (compactPacks.ts).
 */
export class PackBlockstore extends BaseBlockstore {
  readonly #dir: string
  readonly #groupBytes: number
  readonly #packBytes: number
  readonly #windowBytes: number
  readonly #direct: boolean
  #pendingBytes = 0
  /** The first failed write: every later flush reports it, so no ref moves over lost blocks. */
  #failure: unknown
  #index: Database<Uint8Array, Uint8Array> | undefined
  #group: Group | undefined
  /**
   * Where groups are written: a full group goes to the lane with the fewest queued, so
   * two are copied into the page cache at once (on this kind of machine, writing a new
   * file's pages costs as much CPU as cutting and hashing them).
   */
  readonly #lanes: Lane[]
  /** Groups started and not yet written: while one is, the open group goes on filling. */
  #writesInFlight = 0
  /** Blocks put but not yet indexed, by key: readable before their group lands; each is in one group only. */
  readonly #pending = new Map<string, Uint8Array | Uint8Array[]>()
  readonly #readers = new Map<string, Promise<FileHandle>>()
  /** Packs being synced and closed (full, or at close): flush waits for them too. */
  readonly #closing = new Set<Promise<void>>()

  constructor (dir: string, init: PackBlockstoreInit = {}) {
    super()
    this.#dir = dir
    // 32 MiB groups: each is an LMDB transaction, synced to disk, so its size sets how
    // many syncs a commit waits for (8 MiB groups: 124 a GB, 32 MiB: 31; a 1 GB commit
    // ran at ~196 MB/s median with 32 MiB against ~166 with 8, with 5-10% less CPU and
    // ~80 MB more peak RSS).
    this.#groupBytes = init.groupBytes ?? 32 << 20
    this.#packBytes = init.packBytes ?? 2 ** 32
    this.#windowBytes = init.windowBytes ?? 128 << 20
    this.#direct = init.direct ?? true
    this.#lanes = Array.from({ length: init.lanes ?? 2 }, () => ({ pack: undefined, writing: Promise.resolve(), queued: 0 }))
  }

  async open (): Promise<void> {
    await mkdir(join(this.#dir, 'packs'), { recursive: true })
    await mkdir(join(this.#dir, 'writers'), { recursive: true })
    this.#index = openLmdb<Uint8Array, Uint8Array>({ path: join(this.#dir, 'index'), keyEncoding: 'binary', encoding: 'binary', compression: false, ...INDEX_MAP })
  }

  async close (): Promise<void> {
    let failure: { error: unknown } | undefined
    try {
      await this.flush()
    } catch (error) {
      failure = { error }
    }
    // Everything is closed whatever fails on the way; the first failure is thrown after.
    for (const lane of this.#lanes) await this.#closePack(lane).catch((error: unknown) => { failure ??= { error } })
    for (const reader of this.#readers.values()) await reader.then(async handle => { await handle.close() }, () => {})
    this.#readers.clear()
    await this.#index?.close()
    this.#index = undefined
    if (failure !== undefined) throw failure.error
  }

  /**
   * Resolves once every block put so far is written, indexed (visible to other
   * processes) and on disk (the packs written to are synced: a power loss after it
   * loses none of them); throws if any write failed. Call it before publishing a CID,
   * as writeDataset does before it moves a ref.
   */
  async flush (): Promise<void> {
    if (this.#group !== undefined) this.#startGroup()
    await this.#allWritten()
    if (this.#failure !== undefined) throw this.#failure
    try {
      // The open packs, and those a group closed (full) whose sync may still run.
      await Promise.all([...this.#lanes.map(async lane => { if (lane.pack !== undefined) await syncPack(lane.pack) }), ...this.#closing])
    } catch (error) {
      // Not retried: after a failed fsync the kernel may drop the pages it could not
      // write, and a second fsync would report success over them.
      this.#failure ??= error
      throw error
    }
  }

  /** Resolves once every group started so far is written (or failed). */
  async #allWritten (): Promise<void> {
    await Promise.all(this.#lanes.map(async lane => { await lane.writing }))
  }

  /** Stores a block; resolves once it is written and indexed (see putBehind for bulk writes). */
  async put (cid: CID, bytes: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<CID> {
    return this.#put(cid, bytes, false)
  }

  /**
   * Stores a block, returning once it is queued (readable here at once) unless a
   * window of bytes already waits: an import goes on cutting and hashing while groups
   * are written. The caller must flush before it publishes the CID.
   */
  async putBehind (cid: CID, bytes: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<CID> {
    return this.#put(cid, bytes, true)
  }

  async #put (cid: CID, bytes: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, behind: boolean): Promise<CID> {
    // A block put in parts (a fetcher's views of the chunks it received) is kept and
    // written as those parts: joining them would copy every such block once more.
    const parts = bytes instanceof Uint8Array ? [bytes] : await collect(bytes)
    if (this.#failure !== undefined) throw this.#failure
    // Refused once closed: a block put behind would be queued, never written, never said.
    this.#db()
    const key = cid.multihash.bytes
    const id = multihashKey(key)
    if (!this.#pending.has(id)) {
      const group = this.#openGroup()
      this.#queue(group, key, id, parts.reduce((sum, part) => sum + part.byteLength, 0), parts)
      group.parts.push(...parts)
      if (group.bytes >= this.#groupBytes) this.#startGroup()
    }
    if (!behind || this.#pendingBytes > this.#windowBytes || this.#failure !== undefined) await this.#written()
    return cid
  }

  /**
   * Stores raw leaves cut from one buffer as putBehind does, in one call: leaf i is
   * `bytes[ends[i - 1] (0 for the first), ends[i])` and its CID `cids[i]`. A run of
   * leaves is written as one view of the buffer, with no promise or parts per leaf.
   * Leaves the index already holds are not queued: their indices are returned, for
   * the caller to check the stored bytes (as skipExistingWriter does). Waits, as
   * putBehind does, while a window of bytes waits to be written.
   */
  async putLeavesBehind (bytes: Uint8Array, ends: ArrayLike<number>, cids: CID[]): Promise<number[]> {
    if (this.#failure !== undefined) throw this.#failure
    if (cids.length !== ends.length || (ends.length > 0 && ends[ends.length - 1] > bytes.length)) {
      throw new RangeError(`${ends.length} leaf ends and ${cids.length} CIDs over ${bytes.length} bytes do not match`)
    }
    const db = this.#db()
    const stored: number[] = []
    let group: Group | undefined
    /** Start of the run of queued leaves that ends at `start`, or -1. */
    let run = -1
    let start = 0
    try {
      for (let i = 0; i < ends.length; i++) {
        const end = ends[i]
        const key = cids[i].multihash.bytes
        const id = multihashKey(key)
        const pending = this.#pending.has(id)
        if (pending || db.doesExist(key)) {
          if (!pending) stored.push(i)
          if (run !== -1) (group as Group).parts.push(bytes.subarray(run, start))
          run = -1
        } else {
          group ??= this.#openGroup()
          if (run === -1) run = start
          this.#queue(group, key, id, end - start, bytes.subarray(start, end))
          if (group.bytes >= this.#groupBytes) {
            group.parts.push(bytes.subarray(run, end))
            run = -1
            group = undefined
            this.#startGroup()
          }
        }
        start = end
      }
    } finally {
      // Also when a lookup throws part-way: the bytes of every leaf queued go with its key.
      if (run !== -1) (group as Group).parts.push(bytes.subarray(run, start))
    }
    if (this.#pendingBytes > this.#windowBytes || this.#failure !== undefined) await this.#written()
    return stored
  }

  /** The open group, started now if there is none (written at the next turn of the event loop unless another write runs). */
  #openGroup (): Group {
    let group = this.#group
    if (group === undefined) {
      const opened = group = this.#group = newGroup()
      setImmediate(() => { if (this.#group === opened && this.#writesInFlight === 0) this.#startGroup() })
    }
    return group
  }

  /** Adds a block to a group (its bytes go into group.parts, by the caller) and makes it readable. */
  #queue (group: Group, key: Uint8Array, id: string, length: number, bytes: Uint8Array | Uint8Array[]): void {
    group.keys.push(key)
    group.ids.push(id)
    group.lengths.push(length)
    group.bytes += length
    this.#pending.set(id, bytes)
    this.#pendingBytes += length
  }

  /** Resolves once every block put so far is written and indexed; throws once any write failed. */
  async #written (): Promise<void> {
    if (this.#group !== undefined) await this.#group.done.catch(() => {})
    await this.#allWritten()
    if (this.#failure !== undefined) throw this.#failure
  }

  async * get (cid: CID): AsyncGenerator<Uint8Array> {
    const key = cid.multihash.bytes
    const pending = this.#pending.get(multihashKey(key))
    if (pending !== undefined) {
      if (pending instanceof Uint8Array) yield pending
      else yield * pending
      return
    }
    const { handle, offset, length } = await this.#open(cid, key)
    yield await readFully(handle, offset, length)
  }

  /**
   * Reads many blocks with few reads: blocks that lie near each other in a pack (a file's
   * chunks, written in order) are read as one range and handed out as views of it. The
   * promise of a block not stored rejects with NotFoundError. A walk over a DAG reads a
   * node's chunks this way: one read a few hundred KiB long instead of one a block.
   */
  readBlocks (cids: CID[]): Array<Promise<Uint8Array>> {
    const out: Array<Promise<Uint8Array>> = new Array(cids.length)
    const located: Array<{ i: number, pack: string, offset: number, length: number }> = []
    for (let i = 0; i < cids.length; i++) {
      const key = cids[i].multihash.bytes
      const pending = this.#pending.get(multihashKey(key))
      if (pending !== undefined) { out[i] = Promise.resolve(pending instanceof Uint8Array ? pending : Buffer.concat(pending)); continue }
      const location = this.#db().getBinary(key)
      if (location === undefined) { out[i] = Promise.reject(new NotFoundError(`block ${cids[i]} not found`)); continue }
      located.push({ i, ...decodeLocation(location) })
    }
    located.sort((a, b) => a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : a.offset - b.offset)
    for (let start = 0; start < located.length;) {
      // A range: blocks of one pack with gaps of at most READ_GAP bytes, READ_RANGE at most.
      let end = start + 1
      let rangeEnd = located[start].offset + located[start].length
      while (end < located.length && located[end].pack === located[start].pack &&
        located[end].offset - rangeEnd <= READ_GAP && located[end].offset + located[end].length - located[start].offset <= READ_RANGE) {
        rangeEnd = Math.max(rangeEnd, located[end].offset + located[end].length)
        end++
      }
      const blocks = located.slice(start, end)
      const range = this.#reader(blocks[0].pack).then(async handle => await readFully(handle, blocks[0].offset, rangeEnd - blocks[0].offset))
      for (const block of blocks) {
        const from = block.offset - blocks[0].offset
        out[block.i] = range.then(
          // A range cut short (a damaged pack) hands out what it holds: the hash check catches it.
          bytes => bytes.subarray(Math.min(from, bytes.length), Math.min(from + block.length, bytes.length)),
          // Compaction removed the pack since the lookup: read the block where it lies now.
          async (error: unknown) => {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
            return Buffer.concat(await collect(this.get(cids[block.i])))
          })
      }
      start = end
    }
    for (const promise of out) promise.catch(() => {}) // each is handled where it is awaited
    return out
  }

  /**
   * The open pack holding a block. Compaction (here or in another process) may move a
   * block and remove its old pack between the index lookup and the open: the lookup
   * is then made again, and finds the block's new pack.
   */
  async #open (cid: CID, key: Uint8Array): Promise<{ handle: FileHandle, offset: number, length: number }> {
    for (let attempt = 0; ; attempt++) {
      const location = this.#db().getBinary(key)
      if (location === undefined) throw new NotFoundError(`block ${cid} not found`)
      const { pack, offset, length } = decodeLocation(location)
      try {
        return { handle: await this.#reader(pack), offset, length }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw error
      }
    }
  }

  /**
   * Rewrites the live blocks of packs with dead space (deleted blocks, bytes a crash
   * left unindexed) into new packs and removes the old ones; safe against a crash at
   * any point and against other processes using the home (compactPacks.ts).
   */
  async compact (options: CompactOptions = {}): Promise<CompactResult> {
    await this.flush()
    return compactPacks({ dir: this.#dir, index: this.#db(), packBytes: this.#packBytes }, options)
  }

  async has (cid: CID): Promise<boolean> {
    const key = cid.multihash.bytes
    return this.#pending.has(multihashKey(key)) || this.#db().doesExist(key)
  }

  async delete (cid: CID): Promise<void> {
    await this.flush()
    await this.#db().remove(cid.multihash.bytes)
  }

  async * getAll (): AsyncGenerator<Pair> {
    await this.flush()
    for (const key of this.#db().getKeys()) {
      const cid = CID.createV1(raw.code, Digest.decode(key))
      yield { cid, bytes: this.get(cid) }
    }
  }

  /** A directory on the store's disk for temporary files (a long walk's set of CIDs seen). */
  get tempDir (): string {
    return join(this.#dir, 'tmp')
  }

  /** Where a stored block's bytes lie on disk (for tools and tests that inspect packs). */
  locate (cid: CID): BlockLocation | undefined {
    const location = this.#db().getBinary(cid.multihash.bytes)
    if (location === undefined) return undefined
    const { pack, offset, length } = decodeLocation(location)
    return { path: packPath(this.#dir, pack), offset, length }
  }

  #db (): Database<Uint8Array, Uint8Array> {
    if (this.#index === undefined) throw new Error('the blockstore is not open')
    return this.#index
  }

  #reader (pack: string): Promise<FileHandle> {
    let reader = this.#readers.get(pack)
    if (reader === undefined) {
      reader = open(packPath(this.#dir, pack), 'r')
      reader.catch(() => { this.#readers.delete(pack) })
      this.#readers.set(pack, reader)
    }
    return reader
  }

  /** Closes the open group and queues its write on the lane with the fewest groups queued. */
  #startGroup (): void {
    const group = this.#group as Group
    this.#group = undefined
    this.#writesInFlight++
    const lane = this.#lanes.reduce((best, lane) => lane.queued < best.queued ? lane : best)
    lane.queued++
    const written = lane.writing.then(async () => {
      try {
        await this.#writeGroup(group, lane)
      } finally {
        lane.queued--
        // The group that filled while this one was written goes next: one write of many
        // blocks, not one per turn of the event loop (a writev and an index transaction each).
        if (--this.#writesInFlight === 0 && this.#group !== undefined) this.#startGroup()
      }
    })
    written.then(group.resolve, group.reject)
    lane.writing = written.catch((error: unknown) => { this.#failure ??= error })
  }

  async #writeGroup (group: Group, lane: Lane): Promise<void> {
    try {
      // After another lane's failure nothing more is written: flush reports the first one.
      if (this.#failure !== undefined) throw this.#failure
      const pack = await this.#packFor(lane, group.bytes)
      const start = await appendParts(pack, group.parts, group.bytes)
      pack.unsynced = true
      const id = Buffer.from(pack.id)
      let offset = start
      // The group's locations in one buffer: lmdb-js reads each value from where it lies
      // when the transaction runs, and an array buffer per block cost an allocation and a
      // native call each (~210,000 a GB).
      const locations = Buffer.allocUnsafe(LOCATION_BYTES * group.keys.length)
      // One index transaction for the group, written after its bytes.
      await this.#db().batch(() => {
        for (let i = 0; i < group.keys.length; i++) {
          const location = locations.subarray(LOCATION_BYTES * i, LOCATION_BYTES * (i + 1))
          void this.#db().put(group.keys[i], encodeLocation(id, offset, group.lengths[i], location))
          offset += group.lengths[i]
        }
      })
    } finally {
      for (const id of group.ids) this.#pending.delete(id)
      this.#pendingBytes -= group.bytes
    }
  }

  async #packFor (lane: Lane, bytes: number): Promise<Pack> {
    if (lane.pack !== undefined && alignUp(lane.pack.size) + bytes <= this.#packBytes) return lane.pack
    await this.#closePack(lane)
    const id = randomBytes(PACK_ID_BYTES)
    // Marked before it exists: compaction never takes a pack a running process appends to.
    await markWriter(this.#dir, id.toString('hex'))
    // 'wx': a fresh file this store alone appends to.
    const path = packPath(this.#dir, id.toString('hex'))
    const handle = await open(path, 'wx')
    const direct = await openDirect(path, this.#direct)
    // The pack's name made durable with it: a synced pack in a directory entry a power
    // loss undid would be lost.
    await syncDir(join(this.#dir, 'packs'))
    lane.pack = { id, handle, direct, size: 0, unsynced: false, syncing: Promise.resolve() }
    return lane.pack
  }

  async #closePack (lane: Lane): Promise<void> {
    const pack = lane.pack
    lane.pack = undefined
    if (pack === undefined) return
    const closing = (async () => {
      try {
        // A full pack closed before the next flush: its bytes go to disk first, as flush's would.
        await syncPack(pack)
      } catch (error) {
        this.#failure ??= error
        throw error
      } finally {
        // Each closed whatever the others do: a mark left behind would keep compaction off the pack.
        await Promise.allSettled([pack.handle.close(), pack.direct?.handle.close()])
        await unmarkWriter(this.#dir, Buffer.from(pack.id).toString('hex'))
      }
    })()
    // Registered before anything is awaited: a flush from now on waits for this sync.
    this.#closing.add(closing)
    try {
      await closing
    } finally {
      this.#closing.delete(closing)
    }
  }
}

/** Bytes between two blocks read as one range rather than two reads (read and thrown away). */
const READ_GAP = 64 << 10
/** The longest range read at once. */
const READ_RANGE = 4 << 20

function newGroup (): Group {
  let resolve = (): void => {}
  let reject = (_: unknown): void => {}
  const done = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  done.catch(() => {}) // awaited by each put of the group
  return { keys: [], ids: [], lengths: [], parts: [], bytes: 0, done, resolve, reject }
}

/**
 * The key of a block in the maps of blocks not yet indexed: its multihash (what the
 * index is keyed by, so a raw and a dag-pb CID of the same bytes are one block), one
 * char per byte. seenCids.ts's keyOf keys a whole CID instead (its codec matters there).
 */
function multihashKey (multihash: Uint8Array): string {
  return Buffer.from(multihash.buffer, multihash.byteOffset, multihash.byteLength).toString('latin1')
}

/**
 * `length` bytes of a pack from `offset`, or fewer where the pack ends first: a pack cut
 * short (a disk fault) reads as damaged blocks, which callers detect by hash.
 */
async function readFully (handle: FileHandle, offset: number, length: number): Promise<Uint8Array> {
  const out = Buffer.allocUnsafe(length)
  let filled = 0
  for (let read = -1; filled < length && read !== 0; filled += read) {
    read = (await handle.read(out, filled, length - filled, offset + filled)).bytesRead
  }
  return filled === length ? out : out.subarray(0, filled)
}

async function collect (source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return parts
}

/** Waits until a blockstore that writes behind (PackBlockstore) has written every block put; others need nothing. */
export async function flushBlocks (blocks: object): Promise<void> {
  if (blocks instanceof PackBlockstore) await blocks.flush()
}

/** A writer that does not wait for each block to reach the disk where the store allows it; flush before publishing. */
export function writeBehind (blocks: Pick<Blockstore, 'put'>): Pick<Blockstore, 'put'> {
  if (!(blocks instanceof PackBlockstore)) return { put: async (cid, bytes, options) => blocks.put(cid, bytes, options) }
  return { put: async (cid, bytes) => blocks.putBehind(cid, bytes) }
}
