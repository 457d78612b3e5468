import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { addressSpaceLimit, writeAll, type Pack } from './packFiles.ts'

/**
 * Appends to a pack file, large groups with direct I/O (O_DIRECT, Linux): their bytes go
 * from a page-aligned staging buffer to the disk without passing through the page cache.
 * A bulk import writes each byte once and reads it back seldom, so caching it buys
 * nothing, and filling the cache costs much: copying a GB of new pages into it took
 * 1.5-3.5 CPU s on the 2-core VM the benchmarks run on (0.3 s where the pages were warm),
 * more than cutting and hashing the GB; direct, with the copy into staging, 0.2 s.
 * A direct write starts at an aligned offset and is padded to an aligned length: the
 * few bytes skipped (under 4 KiB a group of tens of MiB) are dead space in the pack.
 * Small groups (a node's single puts) are written through the cache, unpadded. Where the
 * file system refuses direct I/O (at open or at a write), the pack is written
 * through the cache.
 */

/** Offsets, lengths and memory of direct writes are multiples of this (every disk's logical block divides it). */
export const DIRECT_ALIGN = 4096
/** Groups at least this large are written direct. */
export const DIRECT_MIN_BYTES = 1 << 20
/** Bytes copied and written at a time (one staging buffer per pack being appended to). */
const STAGING_BYTES = 8 << 20

/** The open flag for direct I/O where the platform has it. */
const O_DIRECT: number | undefined = process.platform === 'linux' ? constants.O_DIRECT : undefined

/** What a pack needs to append direct: a second handle opened with O_DIRECT, and its staging memory once a group needs it. */
export interface DirectAppend {
  handle: FileHandle
  /** Page-aligned (the start of a WebAssembly memory): offsets in it that are multiples of DIRECT_ALIGN are aligned. */
  staging?: Uint8Array
}

/**
 * A direct handle on a pack just created, or undefined where direct I/O is not to be
 * had. Not under a cap on the process's address space: a WebAssembly memory reserves
 * ~10 GiB of it, which a capped process needs for its Buffers.
 */
export async function openDirect (path: string, enabled = true): Promise<DirectAppend | undefined> {
  if (!enabled || O_DIRECT === undefined || addressSpaceLimit() !== Infinity) return undefined
  const handle = await open(path, constants.O_WRONLY | O_DIRECT).catch(() => undefined)
  return handle === undefined ? undefined : { handle }
}

/** The pack's staging memory, made at its first direct write (a pack of small puts never needs one). */
function stagingOf (direct: DirectAppend): Uint8Array {
  direct.staging ??= new Uint8Array(new WebAssembly.Memory({ initial: STAGING_BYTES >> 16 }).buffer)
  return direct.staging
}

/**
 * Writes `parts` (`bytes` in all) at the end of the pack and returns the offset of their
 * first byte; the pack's size moves past them. Direct when the pack can and the group is
 * large; through the cache otherwise, or when the direct write is refused (EINVAL: the
 * file system wants other alignment or has no direct I/O), from then on.
 */
export async function appendParts (pack: Pack, parts: Uint8Array[], bytes: number): Promise<number> {
  if (pack.direct !== undefined && bytes >= DIRECT_MIN_BYTES) {
    const start = alignUp(pack.size)
    try {
      await writeDirect(pack.direct.handle, stagingOf(pack.direct), parts, start)
      pack.size = start + bytes
      return start
    } catch (error) {
      // A RangeError: no memory for staging to be had.
      if (!(error instanceof RangeError) && !REFUSED.has((error as NodeJS.ErrnoException).code ?? '')) throw error
      const direct = pack.direct
      pack.direct = undefined
      await direct.handle.close()
    }
  }
  const start = pack.size
  await writeAll(pack.handle, parts, start)
  pack.size = start + bytes
  return start
}

/** How file systems refuse a direct write they took the open for: the pack is then written through the cache. */
const REFUSED = new Set(['EINVAL', 'EOPNOTSUPP', 'ENOTSUP'])

/** Copies the parts into staging and writes it out whenever it is full; the last write is padded with zeros. */
async function writeDirect (handle: FileHandle, staging: Uint8Array, parts: Uint8Array[], position: number): Promise<void> {
  let filled = 0
  for (const part of parts) {
    for (let done = 0; done < part.length;) {
      const take = Math.min(part.length - done, staging.length - filled)
      staging.set(part.subarray(done, done + take), filled)
      filled += take
      done += take
      if (filled === staging.length) {
        await writeStaged(handle, staging, filled, position)
        position += filled
        filled = 0
      }
    }
  }
  if (filled === 0) return
  const padded = alignUp(filled)
  staging.fill(0, filled, padded)
  await writeStaged(handle, staging, padded, position)
}

async function writeStaged (handle: FileHandle, staging: Uint8Array, length: number, position: number): Promise<void> {
  for (let done = 0; done < length;) {
    const { bytesWritten } = await handle.write(staging, done, length - done, position + done)
    if (bytesWritten === 0) throw new Error(`could not write to a pack file (${length - done} bytes left)`)
    done += bytesWritten
  }
}

export function alignUp (offset: number): number {
  return Math.ceil(offset / DIRECT_ALIGN) * DIRECT_ALIGN
}
