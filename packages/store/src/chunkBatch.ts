import { hash } from 'node:crypto'
import type { FastCdcParams } from './fastcdc.ts'

/** What the chunking worker (chunkWorker.ts) and its pool (chunkerPool.ts) say to each other. */

/**
 * A file to cut and hash, from byte `start` (0, or the start of a segment: see
 * splitChunks.ts) to the end of the file, or to its first cut at or past `stop`.
 */
export interface ChunkJob {
  job: number
  path: string
  params: FastCdcParams
  start: number
  stop?: number
}

/**
 * Consecutive chunks of a job: `buffer` holds them back to back, chunk i ends at
 * `ends[i]` (the first starts at 0) and its CID's bytes (CIDv1, raw, sha256) are
 * `cids[CID_BYTES i, CID_BYTES (i + 1))`.
 */
export interface ChunkBatch {
  job: number
  buffer: ArrayBuffer
  ends: Uint32Array
  cids: Uint8Array
}

/**
 * Consecutive chunks of a file as a pool yields them: chunk i is
 * `bytes[ends[i - 1] (0 for the first), ends[i])` and its CID's bytes are
 * `cids[CID_BYTES i, CID_BYTES (i + 1))`.
 */
export interface CutChunks {
  bytes: Uint8Array
  ends: Uint32Array
  cids: Uint8Array
}

/** CIDv1 (0x01), raw (0x55), sha2-256 (0x12), 32 bytes (0x20): the prefix of every leaf's CID. */
export const LEAF_CID_PREFIX = Uint8Array.of(0x01, 0x55, 0x12, 0x20)
export const CID_BYTES = LEAF_CID_PREFIX.length + 32

/**
 * The CIDs' bytes of the chunks of `bytes` that end at `ends`, back to back: whole CIDs
 * in one array, so the main thread makes each CID object from views of it (a fresh
 * 36-byte array per CID costs more there than the hash does).
 */
export function leafCids (bytes: Uint8Array, ends: ArrayLike<number>): Uint8Array {
  const cids = new Uint8Array(CID_BYTES * ends.length)
  let start = 0
  for (let i = 0; i < ends.length; i++) {
    cids.set(LEAF_CID_PREFIX, CID_BYTES * i)
    cids.set(hash('sha256', bytes.subarray(start, ends[i]), 'buffer'), CID_BYTES * i + LEAF_CID_PREFIX.length)
    start = ends[i]
  }
  return cids
}

export type WorkerReply = { kind: 'batch', batch: ChunkBatch } | { kind: 'done', job: number } | { kind: 'failed', job: number, code?: string, message: string }

/** The main thread answers each batch with 'ack' once it has taken it: at most this many wait unacknowledged. */
export const BATCHES_IN_FLIGHT = 4
