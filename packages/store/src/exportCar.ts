import { createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { CarWriter } from '@ipld/car/writer'
import type { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { resolveVersion } from './resolveVersion.ts'
import { dagBlocks } from './walkDag.ts'

export interface ExportCarOptions {
  /** Called after each block written, with the running totals. */
  onProgress?: (blocks: number, bytes: number) => void
}

export interface ExportCarResult {
  root: CID
  file: string
  /** Blocks written, each once. */
  blocks: number
  /** Their total size in bytes (the CAR adds a few bytes of framing per block). */
  bytes: number
}

/**
 * Writes every block reachable from a version (its commit, history, tree and file
 * chunks) to a CARv1 file with that version as its one root: what pinning services
 * and `ipfs dag import` take. Blocks go out depth first, each hash-checked as it is
 * read, one at a time, so memory stays bounded by the set of CIDs seen. The file is
 * written beside its target and renamed into place: a missing or damaged block
 * leaves no partial CAR.
 */
export async function exportCar (store: Store, ref: string, file: string, options: ExportCarOptions = {}): Promise<ExportCarResult> {
  const root = await resolveVersion(store, ref)
  const target = resolve(file)
  // A missing directory is named as the user gave it, before any block is read (the
  // temporary file's open would name a file they never heard of).
  await stat(dirname(target))
  const temp = join(dirname(target), `.${Date.now()}-${process.pid}.car-tmp`)
  const { writer, out } = CarWriter.create([root])
  const result: ExportCarResult = { root, file: target, blocks: 0, bytes: 0 }
  const feed = async (): Promise<void> => {
    try {
      for await (const block of dagBlocks(store.blocks, root)) {
        await writer.put(block)
        result.blocks++
        result.bytes += block.bytes.length
        options.onProgress?.(result.blocks, result.bytes)
      }
    } finally {
      await writer.close()
    }
  }
  try {
    // Feeding and draining run together: the writer's put waits for the file to take its bytes.
    await Promise.all([feed(), pipeline(Readable.from(out), createWriteStream(temp))])
    await rename(temp, target)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
  return result
}
