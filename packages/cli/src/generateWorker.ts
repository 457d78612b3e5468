import { parentPort, workerData } from 'node:worker_threads'
import { generate, referenceContext, type GenerateOptions, type GenerateResult } from '@commons/engine'
import { isBaseError } from '@commons/errors'
import type { WorkerReply } from './interruptible.ts'

/** `commons generate` in a worker thread (see runInterruptible): each token as { progress }, then one reply. */
const { dir, prompt, options, stream } = workerData as { dir: string, prompt: string, options: GenerateOptions, stream: boolean }
let reply: WorkerReply<GenerateResult>
try {
  const onToken = stream ? (_token: number, bytes: Uint8Array) => { parentPort?.postMessage({ progress: bytes }) } : undefined
  reply = { ok: true, value: await generate(referenceContext(), dir, prompt, { ...options, onToken }) }
} catch (error) {
  const e = error as Error & { hint?: string, details?: Record<string, unknown> }
  reply = { ok: false, error: { name: e.name, message: e.message, hint: e.hint, details: isBaseError(error) ? JSON.parse(JSON.stringify(e.details)) as Record<string, unknown> : undefined, stack: e.stack, expected: isBaseError(error) } }
}
parentPort?.postMessage(reply)
