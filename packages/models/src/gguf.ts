import { BaseError } from '@commons/errors'

/**
 * A GGUF v3 writer (the file format of llama.cpp: github.com/ggml-org/ggml docs/gguf.md).
 * Reading is left to @huggingface/gguf; its writer only rewrites metadata of an existing
 * file, so the whole-file writer is ours: header, key-values, tensor infos, aligned data,
 * all little-endian.
 */

export class GgufError extends BaseError {
  override name = 'GgufError'
}

/** GGUF value types (gguf.md "gguf_metadata_value_type"). */
export const GGUF_TYPE = { UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12 } as const

/** Tensor types this writer emits (ggml_type). */
export const GGML_TYPE = { F32: 0, F16: 1 } as const

export type GgufValue =
  | { type: 'u32', value: number }
  | { type: 'i32', value: number }
  | { type: 'f32', value: number }
  | { type: 'bool', value: boolean }
  | { type: 'string', value: string }
  | { type: 'strings', value: readonly string[] }
  | { type: 'i32s', value: readonly number[] }

export interface GgufTensor {
  name: string
  /** ggml order: ne[0] is the contiguous dimension (numpy's shape reversed). */
  dims: readonly number[]
  type: typeof GGML_TYPE[keyof typeof GGML_TYPE]
  data: Uint8Array
}

export const GGUF_ALIGNMENT = 32
const MAGIC = 0x46554747 // "GGUF" read as a little-endian u32
const VERSION = 3

/** Grows a buffer as values are appended. */
class Writer {
  private bytes = new Uint8Array(1 << 16)
  private view = new DataView(this.bytes.buffer)
  length = 0

  private reserve (n: number): number {
    if (this.length + n > this.bytes.length) {
      const next = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n))
      next.set(this.bytes.subarray(0, this.length))
      this.bytes = next
      this.view = new DataView(next.buffer)
    }
    const at = this.length
    this.length += n
    return at
  }

  u32 (v: number): void { this.view.setUint32(this.reserve(4), v, true) }
  i32 (v: number): void { this.view.setInt32(this.reserve(4), v, true) }
  f32 (v: number): void { this.view.setFloat32(this.reserve(4), v, true) }
  u64 (v: number): void { this.view.setBigUint64(this.reserve(8), BigInt(v), true) }
  u8 (v: number): void { this.view.setUint8(this.reserve(1), v) }
  raw (b: Uint8Array): void { this.bytes.set(b, this.reserve(b.length)) }
  string (s: string): void {
    const b = Buffer.from(s, 'utf8')
    this.u64(b.length)
    this.raw(b)
  }

  pad (alignment: number): void { this.reserve((alignment - (this.length % alignment)) % alignment) }
  result (): Uint8Array { return this.bytes.subarray(0, this.length) }
}

function writeValue (w: Writer, value: GgufValue): void {
  switch (value.type) {
    case 'u32': w.u32(GGUF_TYPE.UINT32); w.u32(value.value); return
    case 'i32': w.u32(GGUF_TYPE.INT32); w.i32(value.value); return
    case 'f32': w.u32(GGUF_TYPE.FLOAT32); w.f32(value.value); return
    case 'bool': w.u32(GGUF_TYPE.BOOL); w.u8(value.value ? 1 : 0); return
    case 'string': w.u32(GGUF_TYPE.STRING); w.string(value.value); return
    case 'strings':
      w.u32(GGUF_TYPE.ARRAY); w.u32(GGUF_TYPE.STRING); w.u64(value.value.length)
      for (const s of value.value) w.string(s)
      return
    case 'i32s':
      w.u32(GGUF_TYPE.ARRAY); w.u32(GGUF_TYPE.INT32); w.u64(value.value.length)
      for (const v of value.value) w.i32(v)
  }
}

const bytesPerElement = (type: GgufTensor['type']): number => type === GGML_TYPE.F32 ? 4 : 2

/**
 * The bytes of a GGUF file: `metadata` in the given order, then the tensors, each data
 * block aligned to GGUF_ALIGNMENT. Returns the header (everything before the first tensor's
 * data) and the data blocks with their padding, so a caller can stream large models.
 */
export function encodeGguf (metadata: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly GgufTensor[]): Uint8Array[] {
  const w = new Writer()
  w.u32(MAGIC)
  w.u32(VERSION)
  w.u64(tensors.length)
  w.u64(metadata.length)
  const keys = new Set<string>()
  for (const [key, value] of metadata) {
    if (keys.has(key)) throw new GgufError(`GGUF key ${key} given twice`)
    keys.add(key)
    w.string(key)
    writeValue(w, value)
  }
  let offset = 0
  for (const t of tensors) {
    const elements = t.dims.reduce((n, d) => n * d, 1)
    if (t.data.length !== elements * bytesPerElement(t.type)) {
      throw new GgufError(`tensor ${t.name}: ${t.data.length} bytes for ${elements} elements of type ${t.type}`)
    }
    w.string(t.name)
    w.u32(t.dims.length)
    for (const d of t.dims) w.u64(d)
    w.u32(t.type)
    w.u64(offset)
    offset += Math.ceil(t.data.length / GGUF_ALIGNMENT) * GGUF_ALIGNMENT
  }
  w.pad(GGUF_ALIGNMENT)
  const parts: Uint8Array[] = [w.result()]
  for (const t of tensors) {
    parts.push(t.data)
    const padding = (GGUF_ALIGNMENT - (t.data.length % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT
    if (padding > 0) parts.push(new Uint8Array(padding))
  }
  return parts
}
