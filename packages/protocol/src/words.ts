import { f32Bits } from './numerics.ts'

/**
 * Committed values (docs/design.md §5): every element is one 32-bit word, a binary32 bit
 * pattern or an i32's two's complement, big-endian in hashes and calldata.
 */

export type DType = 'f32' | 'i32'

/** What the protocol commits to and proves: a tensor's elements and their type (the engine's Tensor is one). */
export interface TensorData {
  readonly dtype: DType
  readonly data: Float32Array | Int32Array
}

/** Elements as a TensorData, the dtype from the array's type. */
export function tensorData (data: Float32Array | Int32Array): TensorData {
  return { dtype: data instanceof Int32Array ? 'i32' : 'f32', data }
}

/** The one bit pattern a NaN is committed as (docs/design.md §4-5): backends cannot disagree on payloads. */
export const CANONICAL_NAN = 0x7fc00000

/** The committed word of a value: binary32 bits (NaN canonical) or an i32's two's complement. */
export function wordOf (value: number, dtype: DType): number {
  if (dtype === 'i32') return value >>> 0
  return value !== value ? CANONICAL_NAN : f32Bits(value)
}

/** Words as the bytes contracts take: 4 per element, big-endian. */
export function wordBytes (words: readonly number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4)
  const view = new DataView(out.buffer)
  words.forEach((w, i) => view.setUint32(4 * i, w))
  return out
}
