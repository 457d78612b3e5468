import { createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable, type Writable } from 'node:stream'
import { CarWriter } from '@ipld/car/writer'
import type { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { resolveVersion } from './resolveVersion.ts'
import type { BlockReader } from './blocks.ts'
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
 * and `ipfs dag import` take (writeCar). The file is written beside its target and
 * renamed into place: a missing or damaged block, or a failed write, leaves no partial CAR.
 */
export async function exportCar (store: Store, ref: string, file: string, options: ExportCarOptions = {}): Promise<ExportCarResult> {
  const root = await resolveVersion(store, ref)
  const target = resolve(file)
  // A missing directory is named as the user gave it, before any block is read (the
  // temporary file's open would name a file they never heard of).
  await stat(dirname(target))
  const temp = join(dirname(target), `.${Date.now()}-${process.pid}.car-tmp`)
  try {
    const written = await writeCar(store.blocks, root, createWriteStream(temp), options)
    await rename(temp, target)
    return { root, file: target, ...written }
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
}

/**
 * Streams the DAG under `root` into `sink` as a CARv1 with that root: blocks depth
 * first, each hash-checked as it is read, one at a time, so memory stays bounded by the
 * set of CIDs seen. Settles once both the walk and the sink have stopped: a sink that
 * fails (a full disk, a closed connection) stops the walk, and a missing or damaged
 * block ends the CAR early and fails with the block's error.
 */
export async function writeCar (blocks: BlockReader, root: CID, sink: Writable, options: ExportCarOptions = {}): Promise<{ blocks: number, bytes: number }> {
  const { writer, out } = CarWriter.create([root])
  const result = { blocks: 0, bytes: 0 }
  // Feeding and draining run together: the writer's put waits for the sink to take its bytes.
  const drained = pipeline(Readable.from(out), sink)
  let sinkFailed = false
  // Once the sink has failed, the writer's pending put (and its close, which waits for
  // that put) never settles: the walk must not wait on them.
  const sinkEnded = drained.then(() => {}, () => { sinkFailed = true })
  const feed = async (): Promise<void> => {
    try {
      for await (const block of dagBlocks(blocks, root)) {
        await Promise.race([writer.put(block), sinkEnded])
        if (sinkFailed) return
        result.blocks++
        result.bytes += block.bytes.length
        options.onProgress?.(result.blocks, result.bytes)
      }
    } finally {
      if (!sinkFailed) await Promise.race([writer.close(), sinkEnded])
    }
  }
  const [fed, sent] = await Promise.allSettled([feed(), drained])
  if (sent.status === 'rejected') throw sent.reason
  if (fed.status === 'rejected') throw fed.reason
  return result
}
