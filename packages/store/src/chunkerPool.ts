import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { FastCdcParams } from './fastcdc.ts'
import type { ChunkBatch, ChunkJob, CutChunks, WorkerReply } from './chunkBatch.ts'
import { stitchSegments, type Piece } from './splitChunks.ts'
import { UnreadableFileError } from './errors.ts'

/** Most threads a pool starts by default: past a few, the main thread (tree, store) is the limit. */
const MAX_DEFAULT_THREADS = 4

/** Threads to cut with by default: one per core beside the main thread's, at least one. */
export function defaultChunkerThreads (): number {
  return Math.max(1, Math.min(MAX_DEFAULT_THREADS, availableParallelism() - 1))
}

export interface ChunkerPoolOptions {
  /** A file of more than twice this many bytes is cut in segments of about this size, on several threads. */
  segmentBytes?: number
}

/** Segments of a large file: big enough that stitching them (a few chunks each) costs nothing. */
const SEGMENT_BYTES = 64 << 20

interface Job {
  message: ChunkJob
  worker?: PoolWorker
  batches: ChunkBatch[]
  finished: boolean
  failure?: Error
  wake?: () => void
}

interface PoolWorker {
  thread: Worker
  job?: Job
}

/**
 * Worker threads that read files and cut and hash them (FastCDC and sha256, the bulk
 * of an import's CPU time) while the main thread builds trees and stores blocks. A
 * worker runs one job at a time, in the order jobs were asked for: a job only ever
 * waits for its own reader, whose earlier jobs all run or ran, so no job waits on one
 * queued behind it. A file is one job, or (when large and there are threads to spare)
 * one job per segment, stitched into exactly the chunks of one pass (splitChunks.ts).
 * A worker sends a batch of chunks (a few MiB, transferred, not copied) and waits once
 * BATCHES_IN_FLIGHT are not yet taken: memory stays bounded whatever the main thread's pace.
 */
export class ChunkerPool {
  readonly #workers: PoolWorker[]
  readonly #segmentBytes: number
  readonly #jobs = new Map<number, Job>()
  readonly #queue: Job[] = []
  #nextJob = 0

  constructor (threads = defaultChunkerThreads(), options: ChunkerPoolOptions = {}) {
    this.#segmentBytes = options.segmentBytes ?? SEGMENT_BYTES
    this.#workers = Array.from({ length: Math.max(1, threads) }, () => {
      const worker: PoolWorker = { thread: new Worker(new URL('./chunkWorker.ts', import.meta.url)) }
      worker.thread.on('message', (reply: WorkerReply) => { this.#receive(worker, reply) })
      worker.thread.on('error', (error: Error) => { this.#failWorker(worker, error) })
      worker.thread.on('exit', () => { this.#failWorker(worker, new Error('a chunking worker thread exited')) })
      return worker
    })
  }

  get threads (): number {
    return this.#workers.length
  }

  /**
   * The chunks of a file, in order, a batch at a time. Given the file's size, a large
   * file is cut in segments on several threads; the chunks are the same either way.
   */
  async * chunks (path: string, params: FastCdcParams, size = 0): AsyncGenerator<CutChunks> {
    const starts = this.segmentStarts(size)
    const jobs = starts.map((start, i) => this.#enqueue({ job: this.#nextJob++, path, params, start, stop: starts[i + 1] }))
    try {
      if (jobs.length === 1) {
        for await (const piece of this.#pieces(jobs[0])) yield piece
      } else {
        yield * stitchSegments(jobs.map(job => this.#pieces(job)), params)
      }
    } finally {
      for (const job of jobs) this.#forget(job)
    }
  }

  async close (): Promise<void> {
    await Promise.all(this.#workers.map(async worker => {
      worker.thread.removeAllListeners('exit')
      await worker.thread.terminate()
    }))
  }

  /** Where the segments of a file of `size` bytes start: [0] for a file cut by one job. */
  segmentStarts (size: number): number[] {
    if (this.#workers.length < 2 || size <= 2 * this.#segmentBytes) return [0]
    const count = Math.floor(size / this.#segmentBytes)
    return Array.from({ length: count }, (_, i) => i * this.#segmentBytes)
  }

  #enqueue (message: ChunkJob): Job {
    const job: Job = { message, batches: [], finished: false }
    this.#jobs.set(message.job, job)
    this.#queue.push(job)
    this.#dispatch()
    return job
  }

  #dispatch (): void {
    for (const worker of this.#workers) {
      if (worker.job !== undefined) continue
      const job = this.#queue.shift()
      if (job === undefined) return
      worker.job = job
      job.worker = worker
      worker.thread.postMessage(job.message)
    }
  }

  /** A job's batches as pieces of the file, each taken (acknowledged) as it is yielded. */
  async * #pieces (job: Job): AsyncGenerator<Piece> {
    let offset = job.message.start
    for (;;) {
      const batch = job.batches.shift()
      if (batch !== undefined) {
        job.worker?.thread.postMessage('ack')
        const length = batch.ends.at(-1) as number
        yield { offset, bytes: new Uint8Array(batch.buffer, 0, length), ends: batch.ends, cids: batch.cids }
        offset += length
      } else if (job.failure !== undefined) {
        throw job.failure
      } else if (job.finished) {
        return
      } else {
        await new Promise<void>(resolve => { job.wake = resolve })
      }
    }
  }

  /** Its reader is done with it: a queued job never runs, a running one runs on unread. */
  #forget (job: Job): void {
    this.#jobs.delete(job.message.job)
    const queued = this.#queue.indexOf(job)
    if (queued !== -1) this.#queue.splice(queued, 1)
  }

  #receive (worker: PoolWorker, reply: WorkerReply): void {
    const id = reply.kind === 'batch' ? reply.batch.job : reply.job
    const job = this.#jobs.get(id)
    if (reply.kind !== 'batch') {
      worker.job = undefined
      this.#dispatch()
    }
    if (job === undefined) {
      // Its reader stopped early (the import failed): let the worker run on to its next job.
      if (reply.kind === 'batch') worker.thread.postMessage('ack')
      return
    }
    if (reply.kind === 'batch') {
      job.batches.push(reply.batch)
    } else {
      job.finished = true
      if (reply.kind === 'failed') {
        job.failure = new UnreadableFileError(`cannot read ${job.message.path} while importing it (${reply.code ?? reply.message})`, {
          hint: 'check that the files did not change or vanish during the commit, then commit again', details: { path: job.message.path, code: reply.code, message: reply.message }
        })
      }
    }
    job.wake?.()
  }

  #failWorker (worker: PoolWorker, error: Error): void {
    for (const job of this.#jobs.values()) {
      if (job.worker !== worker || job.finished) continue
      job.failure = error
      job.wake?.()
    }
  }
}
