import { parentPort, workerData } from 'node:worker_threads'
import { referenceContext } from '@commons/engine'
import { isBaseError } from '@commons/errors'
import { loadServedModel } from './servedModel.ts'
import type { SamplingParams } from './receipt.ts'

/**
 * The provider's generation thread (generationWorker.ts): loads the served model once,
 * then answers `{ id, prompt, params }` messages one at a time, posting `{ id, token }`
 * with each token's text as it is made, then `{ id, done }` with the result, or
 * `{ id, failed }` with the error's name, message, hint and details.
 */
const { dir } = workerData as { dir: string }
const model = loadServedModel(dir)
const ctx = referenceContext()
parentPort?.on('message', ({ id, prompt, params }: { id: number, prompt: string, params: SamplingParams }) => {
  void (async () => {
    try {
      const result = await (await model).generate(ctx, prompt, params, token => { parentPort?.postMessage({ id, token }) })
      parentPort?.postMessage({ id, done: { text: result.text, tokens: result.tokens, tokensPerSecond: result.tokensPerSecond } })
    } catch (error) {
      const e = error as Error & { hint?: string, details?: Record<string, unknown> }
      parentPort?.postMessage({ id, failed: { name: e.name, message: e.message, hint: e.hint, details: isBaseError(error) ? JSON.parse(JSON.stringify(e.details)) as Record<string, unknown> : undefined } })
    }
  })()
})
