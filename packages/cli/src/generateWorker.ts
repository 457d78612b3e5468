import { parentPort, workerData } from 'node:worker_threads'
import { generate, referenceContext, type GenerateOptions } from '@commons/engine'
import { isBaseError } from '@commons/errors'
import type { WorkerReply } from './interruptible.ts'

/** `commons generate` in a worker thread (see runInterruptible): one reply, then done. */
const { dir, prompt, options } = workerData as { dir: string, prompt: string, options: GenerateOptions }
let reply: WorkerReply<{ text: string, tokens: number[] }>
try {
  reply = { ok: true, value: await generate(referenceContext(), dir, prompt, options) }
} catch (error) {
  const e = error as Error & { hint?: string, details?: Record<string, unknown> }
  reply = { ok: false, error: { name: e.name, message: e.message, hint: e.hint, details: isBaseError(error) ? JSON.parse(JSON.stringify(e.details)) as Record<string, unknown> : undefined, stack: e.stack, expected: isBaseError(error) } }
}
parentPort?.postMessage(reply)
