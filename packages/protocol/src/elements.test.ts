import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { elementReads, evaluateFrom } from './elements.ts'
import { f } from './numerics.ts'
import { OPCODE, type Opcode } from './opcodes.ts'
import type { ProgramOp } from './program.ts'
import { tensorData, type TensorData } from './words.ts'

const ctx = { seed: 1, step: 0 }
const f32 = (...values: number[]): TensorData => tensorData(Float32Array.from(values))
const i32 = (...values: number[]): TensorData => tensorData(Int32Array.from(values))
const op = (code: Opcode, dims: number[], inputs: number, attrs: number[]): ProgramOp =>
  ({ code, dtype: 'f32', dims, inputs: Array.from({ length: inputs }, (_, index) => ({ kind: 'op', index })), attrs })
const all = (p: ProgramOp, inputs: TensorData[]): number[] =>
  Array.from({ length: p.dims.reduce((a, b) => a * b, 1) }, (_, e) => evaluateFrom(p, e, ctx, inputs))

describe('element programs', () => {
  it('broadcast a binary op through its strides', () => {
    // [2, 3] + [3]: the second operand's row stride is 0.
    assert.deepEqual(all(op(OPCODE.ADD, [2, 3], 2, [3, 1, 0, 1]), [f32(1, 2, 3, 4, 5, 6), f32(10, 20, 30)]), [11, 22, 33, 14, 25, 36])
  })

  it('fold the last axis in index order, a short last chunk included', () => {
    assert.deepEqual(all(op(OPCODE.SUM, [2], 1, [3]), [f32(0.1, 0.2, 0.3, 1, 2)]), [f(f(f(0.1) + f(0.2)) + f(0.3)), 3])
    assert.deepEqual(all(op(OPCODE.MAXR, [2], 1, [2]), [f32(-1, NaN, 2, 5)]), [NaN, 5])
  })

  it('pick the first index of a row\'s largest value: ties to the lower index, a NaN never wins, one at index 0 stays', () => {
    const argmax = (attrs: number[], dims: number[]) => ({ ...op(OPCODE.ARGMAX, dims, 1, attrs), dtype: 'i32' as const })
    // Rows of 4 from row 1 on: [2, 7, 7, 1] and [NaN, 9, -0, 0].
    assert.deepEqual(all(argmax([4, 1], [2]), [f32(9, 9, 9, 9, 2, 7, 7, 1, NaN, 9, -0, 0)]), [1, 0])
    assert.deepEqual(all(argmax([3, 0], [1]), [f32(-0, 0, NaN)]), [0], '+0 is not greater than -0')
    assert.deepEqual(all(argmax([3, 0], [1]), [f32(-Infinity, NaN, -1e30)]), [2])
    assert.deepEqual(elementReads(argmax([4, 1], [1]), 0, ctx, [f32(0, 0, 0, 0, 1, 2, 3, 4)]), [[4, 7]])
    assert.throws(() => all(argmax([0, 0], [1]), [f32(1)]), { name: 'ProgramError' })
  })

  it('read rows of a table by index, and refuse an index outside it', () => {
    const table = f32(1, 2, 3, 4, 5, 6)
    assert.deepEqual(all(op(OPCODE.GATHER, [2, 2], 2, [3, 2]), [table, i32(2, 0)]), [5, 6, 1, 2])
    assert.throws(() => all(op(OPCODE.GATHER, [1, 2], 2, [3, 2]), [table, i32(3)]), { name: 'ProgramError' })
  })

  it('tell which elements an element reads: a DOT reads a row of each operand', () => {
    // [2, 3] · [2, 3]ᵀ as DOT (m = 2, n = 2, k = 3, B not batched): element 3 is row 1 · row 1.
    const dot = op(OPCODE.DOT, [2, 2], 2, [2, 2, 3, 0])
    assert.deepEqual(elementReads(dot, 3, ctx, [f32(1, 2, 3, 4, 5, 6), f32(1, 0, 0, 0, 1, 0)]), [[3, 5], [3, 5]])
    assert.equal(evaluateFrom(dot, 3, ctx, [f32(1, 2, 3, 4, 5, 6), f32(1, 0, 0, 0, 1, 0)]), 5)
  })

  it('refuse an op code the protocol does not have', () => {
    assert.throws(() => evaluateFrom({ ...op(OPCODE.ADD, [1], 2, [0, 0]), code: 13 as Opcode }, 0, ctx, [f32(1), f32(1)]), { name: 'ProgramError' })
  })
})
