import { Worker } from 'node:worker_threads'
import { BaseError } from '@commons/errors'

/** The user stopped a command (Ctrl-C or SIGTERM) before it finished. */
export class InterruptedError extends BaseError {
  override name = 'InterruptedError'
}

/** An error a worker raised on purpose, rebuilt with its name, hint and details. */
class WorkerError extends BaseError {
  constructor (error: { name: string, message: string, hint?: string, details?: Record<string, unknown> }) {
    super(error.message, { hint: error.hint, details: error.details })
    this.name = error.name
  }
}

/** What a worker module posts back: its result, or the error it raised. */
export type WorkerReply<T> = { ok: true, value: T } | { ok: false, error: { name: string, message: string, hint?: string, details?: Record<string, unknown>, stack?: string, expected: boolean } }

/**
 * Runs a worker module (which posts one WorkerReply) and waits for it. Work that never
 * yields to the event loop cannot see a signal; in a worker it need not: Ctrl-C or
 * SIGTERM ends the worker at once and rejects with InterruptedError.
 */
export async function runInterruptible<T> (module: URL, input: unknown, onProgress?: (progress: unknown) => void): Promise<T> {
  const worker = new Worker(module, { workerData: input })
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
    const stop = (): void => {
      done()
      void worker.terminate()
      reject(new InterruptedError('interrupted before it finished', { hint: 'nothing was written; run it again to finish' }))
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    // A worker may send { progress } messages (streamed output) before its one reply.
    worker.on('message', (reply: WorkerReply<T> | { progress: unknown }) => {
      if ('progress' in reply) {
        onProgress?.(reply.progress)
        return
      }
      done()
      void worker.terminate()
      if (reply.ok) resolve(reply.value)
      else if (reply.error.expected) reject(new WorkerError(reply.error))
      else reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, stack: reply.error.stack }))
    })
    worker.once('error', error => { done(); reject(error) })
  })
}
