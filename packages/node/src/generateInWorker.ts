import { Worker } from 'node:worker_threads'
import type { GenerateResult } from '@commons/engine'
import { NodeError } from './context.ts'
import type { SamplingParams } from './receipt.ts'

/** Generation failed inside its worker: `details.name` is the error raised there. */
export class GenerationError extends NodeError {
  override name = 'GenerationError'
}

/**
 * Generates in a worker thread: the loop of `generate` never yields, so on the provider's
 * own thread it would hold libp2p, the HTTP server and the claims until the answer is
 * done, and a stream would arrive all at once. In a worker each token reaches `onToken`
 * as it is made. The worker runs the reference kernels, which give the bits of every backend.
 */
export async function generateInWorker (dir: string, prompt: string, params: SamplingParams, onToken?: (text: string) => void): Promise<GenerateResult> {
  const worker = new Worker(new URL('./generateWorker.ts', import.meta.url), { workerData: { dir, prompt, params } })
  try {
    return await new Promise<GenerateResult>((resolve, reject) => {
      worker.on('message', (message: { token: string } | { done: GenerateResult } | { failed: { name: string, message: string, hint?: string, details?: Record<string, unknown> } }) => {
        if ('token' in message) onToken?.(message.token)
        else if ('done' in message) resolve(message.done)
        else reject(new GenerationError(message.failed.message, { hint: message.failed.hint, details: { ...message.failed.details, name: message.failed.name } }))
      })
      worker.once('error', reject)
      worker.once('exit', code => { reject(new GenerationError(`the generation worker exited (code ${code}) before answering`)) })
    })
  } finally {
    await worker.terminate()
  }
}
