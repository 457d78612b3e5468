import { closeSync, openSync, readSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'
import { fastCdcMasks, findCut, type FastCdcParams } from './fastcdc.ts'
import { BATCHES_IN_FLIGHT, leafCids, type ChunkBatch, type ChunkJob, type WorkerReply } from './chunkBatch.ts'

/** Bytes read at a time (a batch is about this much). */
const READ_BYTES = 4 << 20

const port = parentPort
if (port === null) throw new Error('chunkWorker.ts runs as a worker thread')

let unacknowledged = 0
let wake: (() => void) | undefined
const jobs: ChunkJob[] = []
let running = false

port.on('message', (message: 'ack' | ChunkJob) => {
  if (message === 'ack') {
    unacknowledged--
    wake?.()
    return
  }
  jobs.push(message)
  if (!running) void runJobs()
})

async function runJobs (): Promise<void> {
  running = true
  for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
    try {
      await cutFile(job)
      port?.postMessage({ kind: 'done', job: job.job } satisfies WorkerReply)
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException
      port?.postMessage({ kind: 'failed', job: job.job, code, message } satisfies WorkerReply)
    }
  }
  running = false
}

/**
 * Cuts a file exactly as fastCdcChunks cuts its byte stream, from the job's start: a
 * cut is made only with at least maxSize bytes after the chunk's start, or at the end
 * of the file, so from offset 0 every boundary is the one a single pass over the whole
 * file gives. A job with a stop ends at its first cut at or past it.
 */
async function cutFile ({ job, path, params, start: from, stop }: ChunkJob): Promise<void> {
  const masks = fastCdcMasks(params)
  const fd = openSync(path, 'r')
  try {
    let carry = new Uint8Array(0)
    /** File offset of the buffer's first byte, and of the next byte to read. */
    let base = from
    let position = from
    for (;;) {
      // A fresh buffer per batch: it is transferred to the main thread, which keeps its chunks.
      // Not zeroed (a GB of memset per GB read, ~0.3 CPU s): only the bytes read into it are
      // cut, hashed or handed on; the tail past them is never read.
      const buffer = new Uint8Array(Buffer.allocUnsafeSlow(carry.length + READ_BYTES).buffer)
      buffer.set(carry)
      let filled = carry.length
      let read = 0
      while (filled < buffer.length && (read = readSync(fd, buffer, filled, buffer.length - filled, position)) > 0) {
        filled += read
        position += read
      }
      const atEnd = filled < buffer.length
      const ends = cutBuffer(buffer, filled, atEnd, params, masks, stop === undefined ? undefined : stop - base)
      const start = ends.at(-1) ?? 0
      const stopped = stop !== undefined && base + start >= stop
      carry = buffer.slice(start, filled)
      base += start
      if (ends.length > 0) await send(job, buffer, ends)
      if (atEnd || stopped) return
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * The ends of the chunks cut from `buffer[0, filled)`: while at least maxSize bytes are
 * left (or to the end, `atEnd`), and no further than the first cut at or past `stop`.
 * Its own function, not a loop in cutFile: V8 runs a hot loop in an async function at
 * half the speed (1.5 CPU s a GB against 0.7 for FastCDC on JSONL rows).
 */
function cutBuffer (buffer: Uint8Array, filled: number, atEnd: boolean, params: FastCdcParams, masks: ReturnType<typeof fastCdcMasks>, stop: number | undefined): number[] {
  const ends: number[] = []
  let start = 0
  while (start < filled && (atEnd || filled - start >= params.maxSize)) {
    start = findCut(buffer, start, filled, params, masks)
    ends.push(start)
    if (stop !== undefined && start >= stop) break
  }
  return ends
}

async function send (job: number, buffer: Uint8Array, ends: number[]): Promise<void> {
  const cids = leafCids(buffer, ends)
  while (unacknowledged >= BATCHES_IN_FLIGHT) await new Promise<void>(resolve => { wake = resolve })
  unacknowledged++
  const batch: ChunkBatch = { job, buffer: buffer.buffer as ArrayBuffer, ends: Uint32Array.from(ends), cids }
  port?.postMessage({ kind: 'batch', batch } satisfies WorkerReply, [batch.buffer, batch.ends.buffer as ArrayBuffer, cids.buffer as ArrayBuffer])
}
