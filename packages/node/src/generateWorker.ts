import { parentPort, workerData } from 'node:worker_threads'
import { referenceContext } from '@commons/engine'
import { isBaseError } from '@commons/errors'
import { loadServedModel } from './servedModel.ts'
import type { SamplingParams } from './receipt.ts'

/**
 * One answer generated off the provider's event loop (generateInWorker.ts): each token's
 * text is posted as `{ token }` as it is made, then `{ done }` with the result, or
 * `{ failed }` with the error's name, message, hint and details.
 */
const { dir, prompt, params } = workerData as { dir: string, prompt: string, params: SamplingParams }
try {
  const model = await loadServedModel(dir)
  const result = await model.generate(referenceContext(), prompt, params, token => { parentPort?.postMessage({ token }) })
  parentPort?.postMessage({ done: { text: result.text, tokens: result.tokens, tokensPerSecond: result.tokensPerSecond } })
} catch (error) {
  const e = error as Error & { hint?: string, details?: Record<string, unknown> }
  parentPort?.postMessage({ failed: { name: e.name, message: e.message, hint: e.hint, details: isBaseError(error) ? JSON.parse(JSON.stringify(e.details)) as Record<string, unknown> : undefined } })
}
