import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import * as ops from './ops.ts'
import { referenceContext } from './context.ts'
import { f, uniform } from '@commons/protocol'
import { Tensor, strides } from './tensor.ts'

const ctx = referenceContext()
let draws = 0
const random = (): number => uniform(99, 0, draws++)
const randomTensor = (shape: number[], scale = 2): Tensor =>
  new Tensor(shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (random() - 0.5) * scale))
const randomShape = (dims: number, max = 6): number[] => Array.from({ length: dims }, () => 1 + Math.floor(random() * max))
const bitsEqual = (a: Float32Array, b: Float32Array, what: string): void => {
  assert.equal(a.length, b.length, `${what}: length`)
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length)
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length)
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) assert.fail(`${what}: element ${i} is ${a[i]}, the program gives ${b[i]}`)
}

/** Element at a multi-index of a row-major tensor, reading broadcast dims as 0. */
function at (t: Tensor, index: number[]): number {
  const s = strides(t.shape)
  const off = index.length - t.shape.length
  let flat = 0
  t.shape.forEach((d, i) => { flat += (d === 1 ? 0 : index[off + i]) * s[i] })
  return t.f32[flat]
}

function unflatten (i: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length)
  for (let d = shape.length - 1; d >= 0; d--) { index[d] = i % shape[d]; i = Math.floor(i / shape[d]) }
  return index
}

describe('ops: every kernel computes its per-element program', () => {
  it('binary ops with broadcasting', () => {
    for (let trial = 0; trial < 40; trial++) {
      const shape = randomShape(1 + Math.floor(random() * 4))
      const other = shape.map(d => random() < 0.3 ? 1 : d).slice(Math.floor(random() * shape.length))
      const [a, b] = random() < 0.5 ? [randomTensor(shape), randomTensor(other)] : [randomTensor(other), randomTensor(shape)]
      for (const op of ['add', 'sub', 'mul', 'div', 'max', 'cmpge'] as const) {
        const out = ops.binary(ctx, op, a, b)
        const expected = Float32Array.from({ length: out.size }, (_, i) => {
          const index = unflatten(i, out.shape)
          return ops.binaryProgram[op](at(a, index), at(b, index))
        })
        bitsEqual(out.f32, expected, `${op} [${a.shape}] [${b.shape}]`)
      }
    }
  })

  it('max handles NaN and signed zeros as defined', () => {
    const max = ops.binaryProgram.max
    assert.ok(Number.isNaN(max(NaN, 1)) && Number.isNaN(max(1, NaN)))
    assert.ok(Object.is(max(-0, 0), 0) && Object.is(max(0, -0), 0))
    assert.equal(max(-Infinity, -3), -3)
  })

  it('reductions run in index order from the identity', () => {
    for (let trial = 0; trial < 20; trial++) {
      const a = randomTensor(randomShape(3))
      const axis = Math.floor(random() * 3)
      for (const op of ['sum', 'max'] as const) {
        const out = ops.reduce(ctx, op, a, axis)
        const expected = Float32Array.from({ length: out.size }, (_, i) => {
          const index = unflatten(i, out.shape)
          let acc = op === 'sum' ? 0 : -Infinity
          for (let k = 0; k < a.shape[axis]; k++) {
            index[axis] = k
            acc = op === 'sum' ? f(acc + at(a, index)) : ops.binaryProgram.max(acc, at(a, index))
          }
          return acc
        })
        bitsEqual(out.f32, expected, `${op} axis ${axis}`)
      }
    }
  })

  it('matmul: sequential k from +0, a rounding after every product and sum, all transposes', () => {
    for (let trial = 0; trial < 20; trial++) {
      const [m, k, n] = randomShape(3, 9)
      const batch = 1 + Math.floor(random() * 3)
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const a = randomTensor(ta ? [batch, k, m] : [batch, m, k])
        const shared = random() < 0.5
        const b = randomTensor(shared ? (tb ? [n, k] : [k, n]) : (tb ? [batch, n, k] : [batch, k, n]))
        const out = ops.matmul(ctx, a, b, ta, tb)
        const expected = new Float32Array(batch * m * n)
        for (let t = 0; t < batch; t++) {
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let acc = 0
              for (let kk = 0; kk < k; kk++) {
                const x = ta ? at(a, [t, kk, i]) : at(a, [t, i, kk])
                const y = shared ? (tb ? at(b, [j, kk]) : at(b, [kk, j])) : (tb ? at(b, [t, j, kk]) : at(b, [t, kk, j]))
                acc = f(acc + f(x * y))
              }
              expected[(t * m + i) * n + j] = acc
            }
          }
        }
        bitsEqual(out.f32, expected, `matmul ${ta} ${tb}`)
      }
    }
  })

  it('permute, gather, scatterAdd, sumTo and rope', () => {
    const a = randomTensor([2, 3, 4])
    const p = ops.permute(ctx, a, [2, 0, 1])
    for (let i = 0; i < p.size; i++) {
      const [x, y, z] = unflatten(i, p.shape)
      assert.equal(p.f32[i], at(a, [y, z, x]))
    }
    const b4 = randomTensor([2, 3, 4, 5])
    const swapped = ops.permute(ctx, b4, [0, 2, 1, 3])
    for (let i = 0; i < swapped.size; i++) {
      const [w, x, y, z] = unflatten(i, swapped.shape)
      assert.equal(swapped.f32[i], at(b4, [w, y, x, z]))
    }
    const table = randomTensor([5, 3])
    const idx = new Tensor([4], Int32Array.of(4, 0, 4, 2))
    const g = ops.gather(ctx, table, idx)
    for (let r = 0; r < 4; r++) for (let d = 0; d < 3; d++) assert.equal(g.f32[r * 3 + d], table.f32[idx.i32[r] * 3 + d])
    const grads = randomTensor([4, 3])
    const s = ops.scatterAdd(ctx, grads, idx, 5)
    for (let d = 0; d < 3; d++) {
      assert.equal(s.f32[4 * 3 + d], f(f(0 + grads.f32[d]) + grads.f32[2 * 3 + d]))
      assert.equal(s.f32[1 * 3 + d], 0)
    }
    const big = randomTensor([3, 4, 5])
    const summed = ops.sumTo(ctx, big, [4, 1])
    for (let i = 0; i < 4; i++) {
      let acc = 0
      for (let t = 0; t < 3; t++) for (let j = 0; j < 5; j++) acc = f(acc + at(big, [t, i, j]))
      assert.equal(summed.f32[i], acc)
    }
    const x = randomTensor([2, 3, 4])
    const cos = randomTensor([3, 2])
    const sin = randomTensor([3, 2])
    const r = ops.rope(ctx, x, cos, sin)
    for (let i = 0; i < r.size; i++) {
      const [b, t, j] = unflatten(i, r.shape)
      const h = 2
      const c = at(cos, [t, j % h])
      const sn = at(sin, [t, j % h])
      const expected = j < h ? f(f(at(x, [b, t, j]) * c) - f(at(x, [b, t, j + h]) * sn)) : f(f(at(x, [b, t, j]) * c) + f(at(x, [b, t, j - h]) * sn))
      assert.equal(r.f32[i], expected)
    }
  })

  it('refuses an element that would read more than 4096 inputs', () => {
    assert.throws(() => ops.matmul(ctx, Tensor.zeros([1, 2049]), Tensor.zeros([2049, 1])), { name: 'ShapeError' })
    assert.throws(() => ops.reduce(ctx, 'sum', Tensor.zeros([4097]), 0), { name: 'ShapeError' })
  })

  it('sums any length as a fixed tree of chunks', () => {
    const values = Float32Array.from({ length: 10000 }, () => random())
    let expected = 0
    const partials = [0, 1, 2].map(c => {
      let acc = 0
      for (let i = c * 4096; i < Math.min(10000, (c + 1) * 4096); i++) acc = f(acc + values[i])
      return acc
    })
    for (const p of partials) expected = f(expected + p)
    assert.equal(ops.chunkedSum(values), expected)
  })
})
