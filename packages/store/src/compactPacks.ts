import { randomBytes } from 'node:crypto'
import { open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Database } from 'lmdb'
import { CompactionBusyError, CompactionError } from './errors.ts'
import { decodeLocation, encodeLocation, hasLiveWriter, packPath, PACK_ID_BYTES, processAlive, syncDir } from './packFiles.ts'

/**
 * Pack compaction: the live blocks of a pack with dead space (blocks deleted from the
 * index, bytes a crash wrote but never indexed, a block two processes both wrote) are
 * copied into a new pack, the index is pointed at them, and the old pack is removed.
 *
 * Crash safety, step by step (a kill at any point loses no block):
 *   1. live blocks copied to packs/.<new>.<pid>.tmp, fsynced    -> the index is unchanged
 *   2. the temp file renamed to packs/<new>.pack, dir fsynced   -> a pack no entry names yet
 *   3. entries re-pointed, each only if it still names the old  -> both packs hold the block
 *      place (a concurrent delete or move wins), synchronously
 *   4. the old pack removed                                      -> nothing names it
 * What a kill leaves (a temp file, a pack no entry names) is dead space the next
 * compaction removes. A pack a running process still appends to (a writer mark with a
 * live pid, packFiles.ts) is never taken, and one compaction runs at a time
 * (compact.lock).
 */

export interface CompactOptions {
  /** A pack is rewritten when at least this share of its bytes is dead (default 0.2; 0: any dead byte). */
  minDeadShare?: number
  /** Called after each step of each pack (synchronously: a test kills itself at a step). */
  onProgress?: (progress: CompactProgress) => void
}

export interface CompactProgress {
  stage: 'copied' | 'renamed' | 'indexed' | 'removed'
  /** The pack being compacted, and its place among those taken. */
  pack: string
  index: number
  packs: number
  /** Bytes copied into new packs so far. */
  copiedBytes: number
}

export interface CompactResult {
  /** Packs in the store, and those taken (rewritten, or removed for holding no live block). */
  packs: number
  compacted: number
  /** Packs left alone because a running process appends to them. */
  busy: number
  /** Live and dead bytes over every pack before, and bytes freed. */
  liveBytes: number
  deadBytes: number
  reclaimedBytes: number
  copiedBytes: number
  movedBlocks: number
}

/** What compaction needs of an open PackBlockstore. */
export interface PackIndex {
  dir: string
  index: Database<Uint8Array, Uint8Array>
  packBytes: number
}

const COPY_BYTES = 8 << 20
const REPOINT_BATCH = 20_000

export async function compactPacks (store: PackIndex, options: CompactOptions = {}): Promise<CompactResult> {
  const minDeadShare = options.minDeadShare ?? 0.2
  const release = await takeLock(store.dir)
  try {
    await removeStaleTemps(store.dir)
    const live = livePerPack(store.index)
    const sizes = await packSizes(store.dir)
    const result: CompactResult = { packs: sizes.size, compacted: 0, busy: 0, liveBytes: 0, deadBytes: 0, reclaimedBytes: 0, copiedBytes: 0, movedBlocks: 0 }
    const taken: string[] = []
    for (const [pack, size] of sizes) {
      const used = live.get(pack) ?? 0
      result.liveBytes += used
      result.deadBytes += size - used
      if (size - used <= 0 || (size - used) / size < minDeadShare) continue
      if (await hasLiveWriter(store.dir, pack)) result.busy++
      else taken.push(pack)
    }
    for (const [i, pack] of taken.entries()) {
      const report = (stage: CompactProgress['stage']): void => options.onProgress?.({ stage, pack, index: i, packs: taken.length, copiedBytes: result.copiedBytes })
      const size = sizes.get(pack) as number
      const blocks = blocksOf(store.index, pack)
      if (blocks.length > 0) {
        const moved = await copyBlocks(store.dir, pack, blocks)
        result.copiedBytes += moved.bytes
        report('copied')
        await rename(moved.temp, packPath(store.dir, moved.id))
        await syncDir(join(store.dir, 'packs'))
        report('renamed')
        result.movedBlocks += repoint(store.index, moved.id, blocks)
        report('indexed')
      }
      await rm(packPath(store.dir, pack), { force: true })
      result.reclaimedBytes += size - (blocks.length > 0 ? blocks.reduce((sum, b) => sum + b.length, 0) : 0)
      result.compacted++
      report('removed')
    }
    return result
  } finally {
    await release()
  }
}

interface Block { key: Buffer, offset: number, length: number, location: Buffer }

/** Live bytes per pack id (one scan of the index). */
function livePerPack (index: Database<Uint8Array, Uint8Array>): Map<string, number> {
  const live = new Map<string, number>()
  for (const { value } of index.getRange()) {
    const { pack, length } = decodeLocation(value)
    live.set(pack, (live.get(pack) ?? 0) + length)
  }
  return live
}

async function packSizes (dir: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>()
  for (const name of await readdir(join(dir, 'packs'))) {
    const match = /^([0-9a-f]{16})\.pack$/.exec(name)
    if (match === null) continue
    const size = await stat(join(dir, 'packs', name)).then(s => s.size, () => null)
    if (size !== null) sizes.set(match[1], size)
  }
  return sizes
}

/** The index entries naming `pack`, in the order of their bytes in it. */
function blocksOf (index: Database<Uint8Array, Uint8Array>, pack: string): Block[] {
  const blocks: Block[] = []
  for (const { key, value } of index.getRange()) {
    const location = decodeLocation(value)
    if (location.pack === pack) blocks.push({ key: Buffer.from(key), offset: location.offset, length: location.length, location: Buffer.from(value) })
  }
  return blocks.sort((a, b) => a.offset - b.offset)
}

/** Copies the blocks' bytes into a new temp pack, fsynced; returns its id and each block's new offset (in order). */
async function copyBlocks (dir: string, pack: string, blocks: Block[]): Promise<{ id: string, temp: string, bytes: number }> {
  const id = randomBytes(PACK_ID_BYTES).toString('hex')
  const temp = join(dir, 'packs', `.${id}.${process.pid}.tmp`)
  const source = await open(packPath(dir, pack), 'r')
  let out: FileHandle | undefined
  try {
    out = await open(temp, 'wx')
    let written = 0
    for (let i = 0; i < blocks.length;) {
      // A run of blocks at a time, read with one read where they lie end to end.
      const first = i
      let bytes = 0
      while (i < blocks.length && (bytes === 0 || bytes + blocks[i].length <= COPY_BYTES)) bytes += blocks[i++].length
      const buffer = Buffer.allocUnsafe(bytes)
      let at = 0
      for (let j = first; j < i; j++) {
        const { bytesRead } = await source.read(buffer, at, blocks[j].length, blocks[j].offset)
        if (bytesRead !== blocks[j].length) {
          throw new CompactionError(`pack ${pack} ends inside the block at ${blocks[j].offset}: the pack is damaged`, { hint: 'run commons dataset verify on your datasets; a commit that holds the block writes it again', details: { pack, offset: blocks[j].offset } })
        }
        at += blocks[j].length
      }
      await out.write(buffer, 0, bytes, written)
      written += bytes
    }
    await out.sync()
    return { id, temp, bytes: written }
  } catch (error) {
    await out?.close().catch(() => {})
    out = undefined
    await rm(temp, { force: true })
    throw error
  } finally {
    await out?.close()
    await source.close()
  }
}

/** Points each block at its copy, only where the index still names its old place; returns how many moved. */
function repoint (index: Database<Uint8Array, Uint8Array>, id: string, blocks: Block[]): number {
  const target = Buffer.from(id, 'hex')
  let offset = 0
  let moved = 0
  for (let i = 0; i < blocks.length; i += REPOINT_BATCH) {
    index.transactionSync(() => {
      for (const block of blocks.slice(i, i + REPOINT_BATCH)) {
        const now = index.getBinary(block.key)
        if (now !== undefined && Buffer.from(now).equals(block.location)) {
          index.putSync(block.key, encodeLocation(target, offset, block.length))
          moved++
        }
        offset += block.length
      }
    })
  }
  return moved
}

/** Temp packs left by a compaction whose process died (the pid is in the name). */
async function removeStaleTemps (dir: string): Promise<void> {
  for (const name of await readdir(join(dir, 'packs'))) {
    const match = /^\.[0-9a-f]{16}\.(\d+)\.tmp$/.exec(name)
    if (match !== null && !processAlive(Number(match[1]))) await rm(join(dir, 'packs', name), { force: true })
  }
}

/** One compaction at a time per store: compact.lock names the pid; a dead one's lock is taken over. */
async function takeLock (dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'compact.lock')
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx')
      await handle.writeFile(String(process.pid))
      await handle.close()
      return async () => { await rm(path, { force: true }) }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const pid = Number(await readFile(path, 'utf8').catch(() => ''))
      if (processAlive(pid)) {
        throw new CompactionBusyError(`process ${pid} is compacting this store`, { hint: 'wait for it to finish, then run compact again', details: { pid, lock: path } })
      }
      await rm(path, { force: true })
    }
  }
  throw new CompactionBusyError(`could not take ${path}`, { hint: 'run compact again', details: { lock: path } })
}
