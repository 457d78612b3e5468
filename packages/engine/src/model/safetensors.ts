import { readFile } from 'node:fs/promises'
import writeFileAtomic from 'write-file-atomic'
import { BaseError } from '@commons/errors'
import { Tensor } from '../core/tensor.ts'

export class CorruptCheckpointError extends BaseError {
  override name = 'CorruptCheckpointError'
}

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header
 * (name → dtype, shape, byte offsets; `__metadata__` strings), then the raw
 * little-endian data. Tensors are written in the given order.
 */
export function encodeSafetensors (tensors: Array<[string, Tensor]>, metadata: Record<string, string> = {}): Buffer {
  const head = safetensorsHeader(tensors.map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })), metadata)
  const out = Buffer.alloc(head.length + tensors.reduce((n, [, t]) => n + t.size * 4, 0))
  head.copy(out, 0)
  let at = head.length
  for (const [, t] of tensors) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.size * 4).copy(out, at)
    at += t.size * 4
  }
  return out
}

/** What the header says of a tensor. */
export interface TensorEntry {
  name: string
  dtype: Tensor['dtype']
  shape: readonly number[]
}

/**
 * The first 8 + H bytes of a safetensors file of these tensors, in this order: the
 * header length H, then the JSON header padded with spaces to a multiple of 8.
 */
export function safetensorsHeader (entries: readonly TensorEntry[], metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata }
  let offset = 0
  for (const { name, dtype, shape } of entries) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4
    header[name] = { dtype: dtype === 'f32' ? 'F32' : 'I32', shape, data_offsets: [offset, offset + bytes] }
    offset += bytes
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - (json.length % 8)) % 8)
  const head = Buffer.from(json)
  const out = Buffer.alloc(8 + head.length)
  out.writeBigUInt64LE(BigInt(head.length), 0)
  head.copy(out, 8)
  return out
}

export interface Safetensors {
  tensors: Map<string, Tensor>
  metadata: Record<string, string>
}

/** Bytes per element of the dtypes read; Commons writes F32 and I32 only. */
const WIDTH: Record<string, number> = { F32: 4, I32: 4, F16: 2, BF16: 2 }

const widen = new Float32Array(1)
const widenBits = new Uint32Array(widen.buffer)

/** bfloat16 bits → binary32: the top half of the binary32 pattern. */
function bf16Value (bits: number): number {
  widenBits[0] = bits << 16
  return widen[0]
}

/** binary16 words (little-endian bytes) → binary32 values, exactly (the JavaScript engine's Float16Array). */
export function f16Values (bytes: Uint8Array): Float32Array {
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : Uint8Array.from(bytes)
  return Float32Array.from(new Float16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2))
}

export function decodeSafetensors (bytes: Buffer, source = 'file'): Safetensors {
  const fail = (why: string): never => {
    throw new CorruptCheckpointError(`${source} is not a valid safetensors file: ${why}`, { hint: 'the file is damaged or truncated; use another checkpoint or train again' })
  }
  if (bytes.length < 8) fail('too short')
  const headerLength = Number(bytes.readBigUInt64LE(0))
  if (headerLength > bytes.length - 8) fail('header runs past the end')
  let header: Record<string, { dtype: string, shape: number[], data_offsets: [number, number] } | Record<string, string>>
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'))
  } catch {
    return fail('header is not JSON')
  }
  const base = 8 + headerLength
  const tensors = new Map<string, Tensor>()
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue
    const { dtype, shape, data_offsets: [start, end] } = entry as { dtype: string, shape: number[], data_offsets: [number, number] }
    const count = shape.reduce((a, b) => a * b, 1)
    const width = WIDTH[dtype]
    if (width === undefined || end - start !== count * width || base + end > bytes.length) fail(`tensor ${name} (${dtype}) does not fit`)
    const copy = bytes.subarray(base + start, base + end)
    if (width === 2) {
      // F16 and BF16 (other tools' weights) widen to F32 exactly.
      const data = dtype === 'F16' ? f16Values(copy) : Float32Array.from({ length: count }, (_, i) => bf16Value(copy.readUInt16LE(2 * i)))
      tensors.set(name, new Tensor(shape, data))
      continue
    }
    const data = dtype === 'F32' ? new Float32Array(count) : new Int32Array(count)
    Buffer.from(data.buffer).set(copy)
    tensors.set(name, new Tensor(shape, data))
  }
  return { tensors, metadata: (header.__metadata__ ?? {}) as Record<string, string> }
}

export async function writeSafetensors (path: string, tensors: Array<[string, Tensor]>, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata))
}

export async function readSafetensors (path: string): Promise<Safetensors> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (cause) {
    throw new CorruptCheckpointError(`cannot read ${path}`, { cause })
  }
  return decodeSafetensors(bytes, path)
}
