import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import * as ag from './autograd.ts'
import { crossEntropy, rmsNorm, silu, softmax } from './nn.ts'
import { oneHot } from '../model/model.ts'
import { uniform } from '@commons/protocol'
import { Tensor } from './tensor.ts'
import { referenceContext, type EngineContext } from './context.ts'

const ctx = referenceContext()
let draws = 0
const random = (): number => uniform(7, 0, draws++)
const randomTensor = (shape: number[], lo = -1, hi = 1): Tensor =>
  new Tensor(shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * random()))

/**
 * Checks the analytic gradient of sum(fn(inputs) · weights) against central finite
 * differences, element by element, for every input.
 */
function checkGradients (name: string, fn: (ctx: EngineContext, ...xs: ag.Var[]) => ag.Var, inputs: Tensor[], tolerance = 2e-2): void {
  const probe = fn(ctx, ...inputs.map(ag.constant)).value
  const weights = ag.constant(randomTensor([...probe.shape]))
  const lossOf = (xs: ag.Var[]): ag.Var => {
    const y = ag.mul(ctx, fn(ctx, ...xs), weights)
    let s = y
    while (s.shape.length > 0 && s.value.size > 1) s = ag.sum(ctx, ag.reshape(s, [1, s.value.size]), -1)
    return ag.reshape(s, [1])
  }
  const vars = inputs.map(ag.param)
  ag.backward(ctx, lossOf(vars))
  inputs.forEach((input, which) => {
    const analytic = vars[which].grad?.f32 ?? new Float32Array(input.size)
    for (let i = 0; i < input.size; i++) {
      const h = 1e-2 * Math.max(1, Math.abs(input.f32[i]))
      const at = (delta: number): number => {
        const shifted = inputs.map((t, j) => {
          if (j !== which) return ag.constant(t)
          const copy = new Float32Array(t.f32)
          copy[i] += delta
          return ag.constant(new Tensor(t.shape, copy))
        })
        return lossOf(shifted).value.f32[0]
      }
      const numeric = (at(h) - at(-h)) / (2 * h)
      const error = Math.abs(numeric - analytic[i]) / Math.max(1, Math.abs(numeric))
      assert.ok(error < tolerance, `${name}: input ${which} element ${i}: analytic ${analytic[i]}, numeric ${numeric}`)
    }
  })
}

describe('gradients against finite differences, one line per op', () => {
  it('elementwise and reductions', () => {
    checkGradients('add', ag.add, [randomTensor([3, 4]), randomTensor([4])])
    checkGradients('sub', ag.sub, [randomTensor([3, 4]), randomTensor([3, 1])])
    checkGradients('mul', ag.mul, [randomTensor([2, 3]), randomTensor([2, 3])])
    checkGradients('div', ag.div, [randomTensor([2, 3]), randomTensor([2, 3], 0.5, 2)])
    checkGradients('max', ag.maximum, [randomTensor([2, 5]), randomTensor([2, 5])])
    checkGradients('neg', ag.neg, [randomTensor([6])])
    checkGradients('exp', ag.exp, [randomTensor([6])])
    checkGradients('log', ag.log, [randomTensor([6], 0.5, 3)])
    checkGradients('sqrt', ag.sqrt, [randomTensor([6], 0.5, 3)])
    checkGradients('recip', ag.recip, [randomTensor([6], 0.5, 3)])
    checkGradients('sum', (ctx, x) => ag.sum(ctx, x, 1), [randomTensor([3, 4, 2])])
  })

  it('matmul in every transposition, batched and shared', () => {
    checkGradients('matmul', (ctx, a, b) => ag.matmul(ctx, a, b), [randomTensor([3, 4]), randomTensor([4, 2])])
    checkGradients('matmul tA', (ctx, a, b) => ag.matmul(ctx, a, b, true, false), [randomTensor([4, 3]), randomTensor([4, 2])])
    checkGradients('matmul tB', (ctx, a, b) => ag.matmul(ctx, a, b, false, true), [randomTensor([3, 4]), randomTensor([2, 4])])
    checkGradients('matmul tA tB', (ctx, a, b) => ag.matmul(ctx, a, b, true, true), [randomTensor([4, 3]), randomTensor([2, 4])])
    checkGradients('matmul batched', (ctx, a, b) => ag.matmul(ctx, a, b), [randomTensor([2, 3, 4]), randomTensor([2, 4, 2])])
    checkGradients('matmul shared', (ctx, a, b) => ag.matmul(ctx, a, b), [randomTensor([2, 3, 4]), randomTensor([4, 2])])
  })

  it('movement, gather and rope', () => {
    checkGradients('reshape', (_, x) => ag.reshape(x, [6, 2]), [randomTensor([3, 4])])
    checkGradients('permute', (ctx, x) => ag.permute(ctx, x, [2, 0, 1]), [randomTensor([2, 3, 4])])
    const idx = ag.constant(new Tensor([5], Int32Array.of(1, 3, 1, 0, 2)))
    checkGradients('gather', (ctx, t) => ag.gather(ctx, t, idx), [randomTensor([4, 3])])
    const cos = ag.constant(randomTensor([3, 2]))
    const sin = ag.constant(randomTensor([3, 2]))
    checkGradients('rope', (ctx, x) => ag.rope(ctx, x, cos, sin), [randomTensor([2, 3, 4])])
  })

  it('attention as one op: gradients, and the same bits as its composition', () => {
    const mask = ag.constant(new Tensor([4, 4], Float32Array.from({ length: 16 }, (_, i) => (i % 4) > Math.floor(i / 4) ? -Infinity : 0)))
    const scale = 0.5
    checkGradients('attention', (ctx, q, k, v) => ag.attentionHeads(ctx, q, k, v, mask, scale), [randomTensor([2, 4, 6]), randomTensor([2, 4, 6]), randomTensor([2, 4, 6])])

    const inputs = [randomTensor([2, 3, 4, 6]), randomTensor([2, 3, 4, 6]), randomTensor([2, 3, 4, 6])]
    const weights = ag.constant(randomTensor([2, 3, 4, 6]))
    const run = (fused: boolean): Tensor[] => {
      const [q, k, v] = inputs.map(ag.param)
      const out = fused
        ? ag.attentionHeads(ctx, q, k, v, mask, scale)
        : ag.matmul(ctx, softmax(ctx, ag.add(ctx, ag.mul(ctx, ag.matmul(ctx, q, k, false, true), ag.constant(Tensor.scalar(scale))), mask)), v)
      const total = ag.sum(ctx, ag.reshape(ag.mul(ctx, out, weights), [1, out.value.size]), -1)
      ag.backward(ctx, total)
      return [out.value, ...[q, k, v].map(x => x.grad as Tensor)]
    }
    const [composed, fused] = [run(false), run(true)]
    composed.forEach((t, i) => assert.deepEqual(fused[i].bytes, t.bytes, `tensor ${i}`))
  })

  it('composed ops', () => {
    checkGradients('softmax', softmax, [randomTensor([3, 5], -3, 3)])
    checkGradients('silu', silu, [randomTensor([8], -4, 4)])
    checkGradients('rmsNorm', (ctx, x, w) => rmsNorm(ctx, x, w, 1e-5), [randomTensor([3, 4]), randomTensor([4])])
    const targets = ag.constant(oneHot(ctx, Int32Array.of(2, 0, 4), 5))
    checkGradients('crossEntropy', (ctx, x) => crossEntropy(ctx, x, targets), [randomTensor([3, 5], -2, 2)])
  })
})
