import { rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import type { Blockstore } from 'interface-blockstore'
import lockfile from 'proper-lockfile'
import { flushBlocks } from './packBlockstore.ts'
import type { MigrationReport } from './migrationReport.ts'

/** Blocks copied at once while migrating: enough to fill a write group of the pack store. */
const IN_FLIGHT = 256

/**
 * Moves the blocks of a home written by an older Commons (blockstore-fs, one file per
 * block under `<home>/blocks`) into `blocks`, then removes the old directory. Block
 * keys are multihashes in both, so every CID reads the same afterwards. Runs under a
 * lock, so two processes opening the same old home migrate it once; an interrupted
 * migration is finished by the next open (putting a block twice is harmless). The
 * old directory is removed only once every block moved is synced to disk.
 * Returns the number of blocks moved.
 */
export async function migrateFsBlocks (home: string, blocks: Pick<Blockstore, 'put'>, report?: MigrationReport): Promise<number> {
  const old = join(home, 'blocks')
  if (!(await isDirectory(old))) return 0
  const release = await lockfile.lock(old, {
    realpath: false,
    stale: 30_000,
    retries: { retries: 1000, factor: 1.2, minTimeout: 50, maxTimeout: 1000 }
  })
  try {
    if (!(await isDirectory(old))) return 0
    const source = new FsBlockstore(old)
    await source.open()
    const progress = { moved: 0, done: false }
    let batch: Array<Promise<unknown>> = []
    for await (const { cid, bytes } of source.getAll()) {
      batch.push(Promise.resolve(blocks.put(cid, bytes)))
      progress.moved++
      if (batch.length >= IN_FLIGHT) {
        await Promise.all(batch)
        batch = []
        report?.({ ...progress })
      }
    }
    await Promise.all(batch)
    await source.close()
    // On disk before the only other copy goes: a power loss after the removal must not
    // take blocks still waiting in the page cache.
    await flushBlocks(blocks)
    await rm(old, { recursive: true, force: true })
    report?.({ ...progress, done: true })
    return progress.moved
  } finally {
    await release()
  }
}

async function isDirectory (path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() === true
}
