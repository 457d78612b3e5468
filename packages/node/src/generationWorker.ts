import { Worker } from 'node:worker_threads'
import type { GenerateResult } from '@commons/engine'
import { NodeError } from './context.ts'
import type { SamplingParams } from './receipt.ts'

/** Generation failed inside the worker: `details.name` is the error raised there. */
export class GenerationError extends NodeError {
  override name = 'GenerationError'
}

export interface GenerationWorker {
  generate(prompt: string, params: SamplingParams, onToken?: (text: string) => void): Promise<GenerateResult>
  close(): Promise<void>
}

type Reply = { id: number, token: string } | { id: number, done: GenerateResult } | { id: number, failed: { name: string, message: string, hint?: string, details?: Record<string, unknown> } }

/**
 * A thread that generates with the model of `dir` (generateWorker.ts), loaded once. The
 * loop of `generate` never yields: on the provider's own thread it would hold libp2p, the
 * HTTP server and the claims until an answer is done, and a stream would arrive all at
 * once. Here each token reaches `onToken` as it is made. Requests are answered in order,
 * one at a time; the thread runs the reference kernels, which give every backend's bits.
 */
export function startGenerationWorker (dir: string): GenerationWorker {
  const worker = new Worker(new URL('./generateWorker.ts', import.meta.url), { workerData: { dir } })
  const pending = new Map<number, { onToken?: (text: string) => void, resolve: (r: GenerateResult) => void, reject: (e: Error) => void }>()
  let next = 0
  const failAll = (error: Error): void => {
    for (const p of pending.values()) p.reject(error)
    pending.clear()
  }
  worker.on('message', (reply: Reply) => {
    const p = pending.get(reply.id)
    if (p === undefined) return
    if ('token' in reply) { p.onToken?.(reply.token); return }
    pending.delete(reply.id)
    if ('done' in reply) p.resolve(reply.done)
    else p.reject(new GenerationError(reply.failed.message, { hint: reply.failed.hint, details: { ...reply.failed.details, name: reply.failed.name } }))
  })
  worker.on('error', failAll)
  worker.on('exit', code => { failAll(new GenerationError(`the generation worker exited (code ${code})`, { hint: 'restart commons serve' })) })
  return {
    generate: async (prompt, params, onToken) => await new Promise<GenerateResult>((resolve, reject) => {
      const id = next++
      pending.set(id, { onToken, resolve, reject })
      worker.postMessage({ id, prompt, params })
    }),
    close: async () => { await worker.terminate() }
  }
}
