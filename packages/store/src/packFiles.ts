import { readFileSync } from 'node:fs'
import { open, readFile, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import type { DirectAppend } from './packAppend.ts'

/**
 * The on-disk layout a PackBlockstore shares with compaction, and the file operations
 * on it (a pack's appends and syncs, the index's map). The layout:
 *   packs/<16 hex>.pack   block bytes
 *   index/                LMDB: multihash -> location (pack id, offset, length)
 *   writers/<16 hex>      the pid of the process appending to that pack (while it does)
 */

export const PACK_ID_BYTES = 8
export const LOCATION_BYTES = PACK_ID_BYTES + 6 + 4

export interface PackLocation {
  /** The pack's id, 16 hex digits. */
  pack: string
  offset: number
  length: number
}

export const packPath = (dir: string, pack: string): string => join(dir, 'packs', `${pack}.pack`)
const writerPath = (dir: string, pack: string): string => join(dir, 'writers', pack)

/** A block's location as the index stores it, written into `out` (LOCATION_BYTES long) when given. */
export function encodeLocation (pack: Buffer, offset: number, length: number, out = Buffer.alloc(LOCATION_BYTES)): Buffer {
  pack.copy(out, 0)
  out.writeUIntBE(offset, PACK_ID_BYTES, 6)
  out.writeUInt32BE(length, PACK_ID_BYTES + 6)
  return out
}

export function decodeLocation (bytes: Uint8Array): PackLocation {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { pack: buf.subarray(0, PACK_ID_BYTES).toString('hex'), offset: buf.readUIntBE(PACK_ID_BYTES, 6), length: buf.readUInt32BE(PACK_ID_BYTES + 6) }
}

/**
 * Marks `pack` as appended to by this process, before the pack file is created:
 * compaction leaves a pack alone while the process named here runs (it may still
 * write bytes and index them there).
 */
export async function markWriter (dir: string, pack: string): Promise<void> {
  await writeFileAtomic(writerPath(dir, pack), String(process.pid))
}

/** This process no longer appends to `pack` (closed, or full). */
export async function unmarkWriter (dir: string, pack: string): Promise<void> {
  await rm(writerPath(dir, pack), { force: true })
}

/** Whether a running process may still append to `pack` (a writer mark whose process is alive). */
export async function hasLiveWriter (dir: string, pack: string): Promise<boolean> {
  const text = await readFile(writerPath(dir, pack), 'utf8').catch(() => null)
  if (text === null) return false
  return processAlive(Number(text))
}

/** Whether process `pid` runs (a mark left by a crashed writer names a dead one). */
export function processAlive (pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Makes a directory's entries durable (a file created or renamed in it survives a power loss). */
export async function syncDir (dir: string): Promise<void> {
  // Windows cannot open a directory to sync it (EPERM); NTFS journals its entries.
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * The index mapped once, at 256 GiB of address space (not memory: the file grows with
 * the index; ~36 MB a GB of blocks, so the map holds the index of ~7 TB of data before
 * lmdb-js grows it, and a process can hold hundreds of stores open in the 128 TiB a
 * process may map). Left to grow, lmdb-js maps the file again at each doubling and the old
 * mappings stay, so the pages a commit touches count in its RSS once per mapping: a
 * 5 GB commit peaked at 933 MB with 332 MB of them against 180 MB of index, 728-765 MB
 * with one mapping. Not on Windows, where LMDB makes the file as large as its map, nor
 * under a cap on the process's address space.
 */
const INDEX_MAP_BYTES = 2 ** 38
export const INDEX_MAP = process.platform === 'win32' || addressSpaceLimit() < 4 * INDEX_MAP_BYTES ? {} : { mapSize: INDEX_MAP_BYTES }

/**
 * The process's cap on address space in bytes (`ulimit -v`, systemd's LimitAS, batch
 * schedulers), Infinity where there is none or it cannot be read: under a cap smaller
 * than the map, mapping the index kills the process, so lmdb-js's growing map is used.
 */
export function addressSpaceLimit (): number {
  try {
    const match = /^Max address space\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    return match === null || match[1] === 'unlimited' ? Infinity : Number(match[1])
  } catch {
    return Infinity
  }
}

/** A pack file a PackBlockstore appends to. */
export interface Pack {
  id: Uint8Array
  handle: FileHandle
  /** A second handle for direct writes, where the file system allows them (packAppend.ts). */
  direct: DirectAppend | undefined
  /** Where the next write goes (a direct write starts at the next aligned offset past it). */
  size: number
  /** Bytes were written since the last sync began. */
  unsynced: boolean
  /** The last sync begun (a failed one stays failed: every later sync of the pack throws). */
  syncing: Promise<void>
}

/**
 * Resolves once every byte written to the pack before the call is on disk (fdatasync).
 * A sync already running may have begun before the latest writes: it is waited for,
 * then another begins if bytes were written since; callers at once share each sync.
 */
export async function syncPack (pack: Pack): Promise<void> {
  for (;;) {
    const running = pack.syncing
    await running
    // Another caller began a newer sync meanwhile: that one is waited for.
    if (pack.syncing !== running) continue
    if (!pack.unsynced) return
    // Cleared first: bytes written while the sync runs mark it again, for the next flush.
    pack.unsynced = false
    pack.syncing = pack.handle.datasync()
  }
}

/**
 * Writes `buffers` back to back at `position`, every byte: at explicit positions, so a
 * write that failed part-way leaves the next group's bytes where its index entries say
 * (they overwrite whatever the failed one left past the pack's size).
 */
export async function writeAll (handle: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  // writev takes at most IOV_MAX (1024) buffers on Linux.
  for (let i = 0; i < buffers.length; i += 1024) {
    const slice = buffers.slice(i, i + 1024)
    const total = slice.reduce((sum, b) => sum + b.length, 0)
    let written = (await handle.writev(slice, position)).bytesWritten
    if (written < total) {
      const rest = Buffer.concat(slice).subarray(written)
      for (let done = 0; done < rest.length; done += written) {
        written = (await handle.write(rest, done, rest.length - done, position + total - rest.length + done)).bytesWritten
        if (written === 0) throw new Error(`could not write to a pack file (${rest.length - done} bytes left)`)
      }
    }
    position += total
  }
}
