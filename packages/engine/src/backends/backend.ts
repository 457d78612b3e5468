import { BaseError } from '@commons/errors'
import { referenceContext, type EngineContext } from '../core/context.ts'
import { WasmBackend } from './wasmBackend.ts'
import { nativeKernels } from './native.ts'

export class UnknownBackendError extends BaseError {
  override name = 'UnknownBackendError'
}

export const BACKENDS = ['auto', 'reference', 'wasm', 'native'] as const
export type BackendName = typeof BACKENDS[number]

/** An open compute backend: the context its ops run on; `close` stops its threads. */
export interface Backend {
  /** The backend that runs: 'auto' resolves to native where it is built, else wasm. */
  name: Exclude<BackendName, 'auto'>
  threads: number
  /** Pass it to whatever runs steps (train, replay, traceStep...): only they use this backend. */
  ctx: EngineContext
  close(): Promise<void>
}

/**
 * Opens `name` with `threads` threads. Backends differ in speed only: each kernel
 * computes its op's per-element program, so results are the same bits.
 */
export function openBackend (requested: string, threads = 1): Backend {
  let name = requested
  if (name === 'reference') return { name, threads: 1, ctx: referenceContext(), close: async () => {} }
  const native = nativeKernels()
  if (name === 'auto') name = native?.avx512 === true ? 'native' : 'wasm'
  if (name === 'native' && native?.avx512 !== true) {
    throw new UnknownBackendError(native === null ? 'the native kernels are not built here' : 'the native kernels need a CPU with AVX-512', {
      hint: 'use --backend wasm (same results); npm run build builds the native kernels where a C compiler is present'
    })
  }
  if (name === 'wasm' || name === 'native') {
    const wasm = WasmBackend.create(threads)
    const useNative = name === 'native' ? native : null
    const ctx: EngineContext = {
      allocator: { f32: (n, overwritten) => wasm.alloc(n, overwritten), startStep: () => { wasm.startStep() } },
      kernels: {
        matmul: (a, b, ta, tb) => wasm.matmul(a, b, ta, tb, useNative),
        exp: a => wasm.exp(a),
        binary: (op, out, x, y, how, period) => wasm.binary(op, out, x, y, how, period),
        unary: (op, out, x) => wasm.unary(op, out, x),
        attention: (q, k, v, mask, scale) => wasm.attention(q, k, v, mask, scale, useNative),
        attentionBackward: (g, q, k, v, saved, scale) => wasm.attentionBackward(g, q, k, v, saved, scale, useNative)
      },
      recorder: null
    }
    return { name: name as 'wasm' | 'native', threads: wasm.threads, ctx, close: async () => { await wasm.close() } }
  }
  throw new UnknownBackendError(`unknown backend "${name}"`, { hint: `choose one of: ${BACKENDS.join(', ')}` })
}
