import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { elementReads, evaluateFrom } from './elements.ts'
import { expf, f, f32Bits } from './numerics.ts'
import { OPCODE, type Opcode } from './opcodes.ts'
import { PURPOSE, uniform } from './prng.ts'
import type { ProgramOp } from './program.ts'
import { tensorData, type DType, type TensorData } from './words.ts'

const ctx = { seed: 7, step: 3 }
const f32 = (...values: number[]): TensorData => tensorData(Float32Array.from(values))
const i32 = (...values: number[]): TensorData => tensorData(Int32Array.from(values))
const op = (code: Opcode, dims: number[], inputs: number, attrs: number[], dtype: DType = 'f32'): ProgramOp =>
  ({ code, dtype, dims, inputs: Array.from({ length: inputs }, (_, index) => ({ kind: 'op', index })), attrs })
const all = (p: ProgramOp, inputs: TensorData[]): number[] =>
  Array.from({ length: p.dims.reduce((a, b) => a * b, 1) }, (_, e) => evaluateFrom(p, e, ctx, inputs))
/** A tokens input: a window of two tokens, then temperature, top-k and top-p as the receipt signs them. */
const params = (temperature: number, topK: number, topP: number | null): TensorData =>
  i32(5, 6, f32Bits(temperature) | 0, topK, topP === null ? 0 : f32Bits(topP) | 0)

describe('sampling element programs', () => {
  it('WEIGHT: exp((x − x[argmax]) / t) over the named row, t read from the params', () => {
    const logits = f32(9, 9, 9, 1, 3, 2)
    const w = all(op(OPCODE.WEIGHT, [3], 3, [3, 1, 2]), [logits, i32(1), params(0.5, 0, null)])
    assert.deepEqual(w, [expf(f(-2 / 0.5)), 1, expf(f(-1 / 0.5))])
    assert.deepEqual(elementReads(op(OPCODE.WEIGHT, [3], 3, [3, 1, 2]), 2, ctx, [logits, i32(1), params(0.5, 0, null)]), [[4, 5], [0, 0], [2, 2]])
    assert.throws(() => all(op(OPCODE.WEIGHT, [3], 3, [3, 1, 2]), [logits, i32(3), params(1, 0, null)]), { name: 'ProgramError' })
  })

  it('RANK: a permutation in likelihood order, ties to the lower index, −0 = +0, NaN after every number', () => {
    const rank = op(OPCODE.RANK, [6], 1, [6, 0], 'i32')
    assert.deepEqual(all(rank, [f32(1, NaN, 3, -0, 0, NaN)]), [1, 4, 0, 2, 3, 5])
    assert.deepEqual(all(op(OPCODE.RANK, [2], 1, [2, 1], 'i32'), [f32(0, 1, -Infinity, Infinity)]), [1, 0])
  })

  it('SCAN: running sums from +0 in index order, restarting each row', () => {
    assert.deepEqual(all(op(OPCODE.SCAN, [4], 1, [2]), [f32(0.1, 0.2, 1, 2)]), [f(0.1), f(f(0.1) + f(0.2)), 1, 3])
    assert.deepEqual(elementReads(op(OPCODE.SCAN, [4], 1, [2]), 3, ctx, [f32(0.1, 0.2, 1, 2)]), [[2, 3]])
  })

  it('KEEP: top-k, then the fewest most likely tokens whose weight reaches p of the top-k\'s, 0 meaning none', () => {
    // Weights 0.1, 0.5, 0.4 (id order): likelihood order 1, 2, 0; running 0.5, 0.9, 1.0.
    const w = f32(0.1, 0.5, 0.4)
    const ranks = i32(2, 0, 1)
    const running = f32(0.5, f(f(0.5) + f(0.4)), f(f(f(0.5) + f(0.4)) + f(0.1)))
    const keep = op(OPCODE.KEEP, [3], 4, [3, 3])
    const kept = (topK: number, topP: number | null) => all(keep, [running, ranks, w, params(1, topK, topP)])
    assert.deepEqual(kept(0, null), [f(0.1), f(0.5), f(0.4)])
    assert.deepEqual(kept(9, null), [f(0.1), f(0.5), f(0.4)], 'a top-k past the vocabulary keeps all')
    assert.deepEqual(kept(2, null), [0, f(0.5), f(0.4)])
    assert.deepEqual(kept(1, null), [0, f(0.5), 0])
    assert.deepEqual(kept(0, 0.5), [0, f(0.5), 0], 'running 0.5 reaches 0.5 of 1.0')
    assert.deepEqual(kept(0, 0.6), [0, f(0.5), f(0.4)])
    assert.deepEqual(kept(2, 0.9), [0, f(0.5), f(0.4)], 'p of the top-k\'s total, 0.9')
    assert.deepEqual(elementReads(keep, 0, ctx, [running, ranks, w, params(1, 2, 0.9)]), [[0, 1], [0, 0], null, [3, 4]])
  })

  it('UNIFORM_AT: the uniform of (seed, purpose, index) with the dispute\'s seed and token index', () => {
    assert.deepEqual(all(op(OPCODE.UNIFORM_AT, [2], 0, [PURPOSE.SAMPLE]), []), [uniform(7, PURPOSE.SAMPLE, 3), uniform(7, PURPOSE.SAMPLE, 4)])
  })

  it('FINDFIRST: the first index whose running weight exceeds u × the total, else the fallback', () => {
    const find = op(OPCODE.FINDFIRST, [1], 3, [4], 'i32')
    const running = f32(0, 1, 1, 3)
    assert.deepEqual(all(find, [running, f32(0), i32(9)]), [1], 'u = 0: the first token of weight > 0')
    assert.deepEqual(all(find, [running, f32(0.5), i32(9)]), [3])
    assert.deepEqual(all(find, [f32(0, 0, 0, 0), f32(0.5), i32(9)]), [9], 'no weight at all: the fallback')
    assert.deepEqual(all(find, [f32(0, 1, NaN, NaN), f32(0.5), i32(2)]), [2], 'a NaN total: the fallback')
    assert.throws(() => all(op(OPCODE.FINDFIRST, [1], 3, [0], 'i32'), [running, f32(0), i32(0)]), { name: 'ProgramError' })
  })
})
