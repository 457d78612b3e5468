import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encodeSafetensors, Tensor } from '@commons/engine'
import { findModelFileLie } from './modelFileDispute.ts'

/** The off-chain reading of a model file, as ModelFileDisputes reads it. */
describe('findModelFileLie', () => {
  const params = [new Tensor([2, 3], Float32Array.from([1, 2, 3, 4, 5, 6])), new Tensor([4], Float32Array.from([0.5, NaN, -1, 7]))]
  const file = (tensors: Tensor[]): Uint8Array => encodeSafetensors(tensors.map((t, i) => [`p${i}`, t]), { note: 'metadata of any length' })

  it('finds nothing in the file of S_T, a NaN of other bits included', () => {
    const bytes = Buffer.from(file(params))
    assert.equal(findModelFileLie(bytes, params), null)
    // Another NaN pattern where S_T holds NaN: the commitment holds NaN canonical.
    const at = 8 + Number(bytes.readBigUInt64LE(0)) + 4 * (6 + 1)
    bytes.writeUInt32LE(0x7f800001, at)
    assert.equal(findModelFileLie(bytes, params), null)
  })

  it('names the first weight that differs', () => {
    const wrong = params.map(t => new Tensor(t.shape, Float32Array.from(t.f32)))
    wrong[1].f32[2] = -1.5
    assert.deepEqual(findModelFileLie(file(wrong), params), { slot: 1, element: 2 })
  })

  it('names the first weight a truncated or missing file lacks', () => {
    const bytes = file(params)
    assert.deepEqual(findModelFileLie(bytes.subarray(0, bytes.length - 5), params), { slot: 1, element: 2 })
    assert.deepEqual(findModelFileLie(undefined, params), { slot: 0, element: 0 })
    const outside = Buffer.from(bytes)
    outside.writeBigUInt64LE(1n << 40n, 0)
    assert.deepEqual(findModelFileLie(outside, params), { slot: 0, element: 0 })
  })
})
