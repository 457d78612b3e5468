import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { FastCdcParams } from './fastcdc.ts'
import type { ChunkBatch, ChunkJob, CutChunks, WorkerReply } from './chunkBatch.ts'
import { UnreadableFileError } from './errors.ts'

/** Most threads a pool starts by default: past a few, the main thread (tree, store) is the limit. */
const MAX_DEFAULT_THREADS = 4

/** Threads to cut with by default: one per core beside the main thread's, at least one. */
export function defaultChunkerThreads (): number {
  return Math.max(1, Math.min(MAX_DEFAULT_THREADS, availableParallelism() - 1))
}

interface Job {
  path: string
  worker: PoolWorker
  batches: ChunkBatch[]
  finished: boolean
  failure?: Error
  wake?: () => void
}

interface PoolWorker {
  thread: Worker
  /** Jobs given to it and not yet done. */
  active: number
}

/**
 * Worker threads that read files and cut and hash them (FastCDC and sha256, the bulk
 * of an import's CPU time) while the main thread builds trees and stores blocks. Each
 * file is cut whole by one worker, in order, so its chunks are exactly those of
 * fastCdcChunks; files run in parallel on different workers. A worker sends a batch
 * of chunks (a few MiB, transferred, not copied) and waits once BATCHES_IN_FLIGHT
 * are not yet taken: memory stays bounded whatever the main thread's pace.
 */
export class ChunkerPool {
  readonly #workers: PoolWorker[]
  readonly #jobs = new Map<number, Job>()
  #nextJob = 0

  constructor (threads = defaultChunkerThreads()) {
    this.#workers = Array.from({ length: Math.max(1, threads) }, () => {
      const worker: PoolWorker = { thread: new Worker(new URL('./chunkWorker.ts', import.meta.url)), active: 0 }
      worker.thread.on('message', (reply: WorkerReply) => { this.#receive(worker, reply) })
      worker.thread.on('error', (error: Error) => { this.#failWorker(worker, error) })
      worker.thread.on('exit', () => { this.#failWorker(worker, new Error('a chunking worker thread exited')) })
      return worker
    })
  }

  get threads (): number {
    return this.#workers.length
  }

  /** The chunks of a file, in order, a batch at a time. */
  async * chunks (path: string, params: FastCdcParams): AsyncGenerator<CutChunks> {
    const worker = this.#workers.reduce((least, w) => w.active < least.active ? w : least)
    const id = this.#nextJob++
    const job: Job = { path, worker, batches: [], finished: false }
    this.#jobs.set(id, job)
    worker.active++
    worker.thread.postMessage({ job: id, path, params } satisfies ChunkJob)
    try {
      for (;;) {
        const batch = job.batches.shift()
        if (batch !== undefined) {
          worker.thread.postMessage('ack')
          yield { bytes: new Uint8Array(batch.buffer, 0, batch.ends.at(-1)), ends: batch.ends, cids: batch.cids }
        } else if (job.failure !== undefined) {
          throw job.failure
        } else if (job.finished) {
          return
        } else {
          await new Promise<void>(resolve => { job.wake = resolve })
        }
      }
    } finally {
      this.#jobs.delete(id)
    }
  }

  async close (): Promise<void> {
    await Promise.all(this.#workers.map(async worker => {
      worker.thread.removeAllListeners('exit')
      await worker.thread.terminate()
    }))
  }

  #receive (worker: PoolWorker, reply: WorkerReply): void {
    const id = reply.kind === 'batch' ? reply.batch.job : reply.job
    const job = this.#jobs.get(id)
    if (job === undefined) {
      // Its reader stopped early (the import failed): let the worker run on to its next job.
      if (reply.kind === 'batch') worker.thread.postMessage('ack')
      else worker.active--
      return
    }
    if (reply.kind === 'batch') {
      job.batches.push(reply.batch)
    } else {
      job.finished = true
      job.worker.active--
      if (reply.kind === 'failed') {
        job.failure = new UnreadableFileError(`cannot read ${job.path} while importing it (${reply.code ?? reply.message})`, {
          hint: 'check that the files did not change or vanish during the commit, then commit again', details: { path: job.path, code: reply.code, message: reply.message }
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
