import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'

/**
 * The on-disk layout a PackBlockstore shares with compaction:
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
