import { BaseError } from '@commons/errors'
import { referenceAttention, referenceAttentionBackward, useAllocator, useKernels } from './ops.ts'
import { WasmBackend } from './wasmBackend.ts'

export class UnknownBackendError extends BaseError {
  override name = 'UnknownBackendError'
}

export const BACKENDS = ['reference', 'wasm'] as const
export type BackendName = typeof BACKENDS[number]

/** An active compute backend; `close` stops its threads and returns ops to the reference. */
export interface ActiveBackend {
  name: BackendName
  threads: number
  close(): Promise<void>
}

/**
 * Makes every op run on `name` with `threads` threads. Backends differ in speed only:
 * each kernel computes its op's per-element program, so results are the same bits.
 */
export function useBackend (name: string, threads = 1): ActiveBackend {
  if (name === 'reference') {
    useKernels({})
    useAllocator(null)
    return { name, threads: 1, close: async () => {} }
  }
  if (name === 'wasm') {
    const wasm = WasmBackend.create(threads)
    useAllocator({ f32: (n, overwritten) => wasm.alloc(n, overwritten), startStep: () => { wasm.startStep() } })
    useKernels({
      matmul: (a, b, ta, tb) => wasm.matmul(a, b, ta, tb),
      exp: a => wasm.exp(a),
      binary: (op, out, x, y) => wasm.binary(op, out, x, y),
      unary: (op, out, x) => wasm.unary(op, out, x),
      attention: (q, k, v, mask, scale) => wasm.attention(q, k, v, mask, scale) ?? referenceAttention(q, k, v, mask, scale),
      attentionBackward: (g, q, k, v, saved, scale) => wasm.attentionBackward(g, q, k, v, saved, scale) ?? referenceAttentionBackward(g, q, k, v, saved, scale)
    })
    return {
      name,
      threads: wasm.threads,
      close: async () => {
        useKernels({})
        useAllocator(null)
        await wasm.close()
      }
    }
  }
  throw new UnknownBackendError(`unknown backend "${name}"`, { hint: `choose one of: ${BACKENDS.join(', ')}` })
}
