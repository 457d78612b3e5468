import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** The optional native kernels (native/kernels.c), when they are built and load here. */
export interface NativeKernels {
  /** True when the CPU has AVX-512; without it matmul declines (returns false). */
  avx512: boolean
  matmul(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, aRow: number, aCol: number, aBatch: number, bBatch: number, rows: number, threads: number): boolean
  /** ops.referenceAttention into the given outputs; false when t or dh is not a multiple of 16. */
  attention(q: Float32Array, k: Float32Array, v: Float32Array, mask: Float32Array, out: Float32Array, p: Float32Array, e: Float32Array, z: Float32Array, heads: number, t: number, dh: number, scale: number, threads: number): boolean
  /** ops.referenceAttentionBackward into dq, dk, dv; false when t or dh is not a multiple of 16. */
  attentionBackward(g: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, p: Float32Array, e: Float32Array, z: Float32Array, dq: Float32Array, dk: Float32Array, dv: Float32Array, heads: number, t: number, dh: number, scale: number, threads: number): boolean
  /** The Merkle roots of many tensors at once, 32 bytes each, shared out over the threads. */
  tensorMerkleRoots(tensors: Array<Float32Array | Int32Array>, empties: Uint8Array, threads: number): Uint8Array
  /** The Merkle root of a tensor's elements (commit.ts), odd levels padded from `empties`. */
  tensorMerkleRoot(elements: Float32Array | Int32Array, empties: Uint8Array, threads: number): Uint8Array
}

const PATH = fileURLToPath(new URL('../../build/kernels.node', import.meta.url))
let loaded: NativeKernels | null | undefined

/**
 * The native kernels, or null where they were not built (no compiler, no Node
 * headers) or cannot load: everything then runs on the WebAssembly kernels, with the
 * same results. COMMONS_NATIVE=0 turns them off.
 */
export function nativeKernels (): NativeKernels | null {
  if (loaded !== undefined) return loaded
  if (process.env.COMMONS_NATIVE === '0') return (loaded = null)
  try {
    loaded = createRequire(import.meta.url)(PATH) as NativeKernels
  } catch {
    loaded = null
  }
  return loaded
}
