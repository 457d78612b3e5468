import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeSafetensors, encodeSafetensors } from './safetensors.ts'
import { Tensor } from '../core/tensor.ts'

/** A safetensors file of one tensor with raw little-endian 16-bit words. */
function sixteenBit (dtype: 'F16' | 'BF16', words: number[]): Buffer {
  const header = Buffer.from(JSON.stringify({ w: { dtype, shape: [words.length], data_offsets: [0, words.length * 2] } }))
  const out = Buffer.alloc(8 + header.length + words.length * 2)
  out.writeBigUInt64LE(BigInt(header.length), 0)
  header.copy(out, 8)
  words.forEach((w, i) => out.writeUInt16LE(w, 8 + header.length + 2 * i))
  return out
}

describe('safetensors', () => {
  it('round-trips F32 and I32, and widens F16 and BF16 weights (other tools\') to F32 exactly', () => {
    const f = new Tensor([2, 2], Float32Array.from([1.5, -2, 0.1, 3e-8]))
    const i = new Tensor([3], Int32Array.from([7, -1, 256]))
    const back = decodeSafetensors(encodeSafetensors([['f', f], ['i', i]], { note: 'x' }))
    assert.deepEqual(back.tensors.get('f')?.f32, f.f32)
    assert.deepEqual(back.tensors.get('i')?.i32, i.i32)
    assert.equal(back.metadata.note, 'x')
    assert.deepEqual([...decodeSafetensors(sixteenBit('F16', [0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00])).tensors.get('w')?.f32 ?? []], [1, -2, 65504, 2 ** -24, -0, Infinity])
    assert.deepEqual([...decodeSafetensors(sixteenBit('BF16', [0x3f80, 0x4049, 0xc2f7])).tensors.get('w')?.f32 ?? []], [1, 3.140625, -123.5])
    const f16 = (x: number): number => new Float16Array([x])[0]
    const words = Array.from({ length: 1000 }, (_, k) => (k * 977) & 0x7bff)
    const decoded = decodeSafetensors(sixteenBit('F16', words)).tensors.get('w')?.f32 ?? new Float32Array()
    words.forEach((w, k) => { assert.equal(decoded[k], f16(new Float16Array(new Uint16Array([w]).buffer)[0])) })
    assert.throws(() => decodeSafetensors(sixteenBit('F64' as 'F16', [1, 2])), { name: 'CorruptCheckpointError' })
  })
})
