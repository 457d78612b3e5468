import type { ElementProgram } from './elements.ts'
import { binaryProgram, expf, f32FromBits } from './numerics.ts'
import type { SamplingOp } from './opcodes.ts'
import { uniform } from './prng.ts'
import { ProgramError } from './program.ts'

/**
 * The element programs of the sampling ops (docs/inference.md, "Sampled answers"): the
 * canonical seeded pick of a generated token, one element at a time, so that a sampled
 * token is disputable like a greedy one. The engine's sampler (engine/src/infer/sample.ts)
 * computes the same values row-wise; the provers (contracts/src/dispute/SamplingProver.sol)
 * element-wise.
 *
 * The sampling parameters are words of the program's tokens input, after the window:
 * `params[at]` is the temperature's binary32 bits, `params[at + 1]` top-k (0: none) and
 * `params[at + 2]` top-p's bits (0: none), as the receipt signs them.
 */

/** Whether x_j comes before x_i in likelihood order: greater first, a NaN after every number, ties to the lower index. */
export function comesBefore (xj: number, j: number, xi: number, i: number): boolean {
  if (xi !== xi) return xj === xj || j < i
  if (xj !== xj) return false
  return xj > xi || (xj === xi && j < i)
}

/** The tokens top-k and top-p leave, counted in likelihood order, from the running weights in that order. */
export function keptCount (running: (q: number) => number, n: number, topK: number, topPBits: number): number {
  const k = topK === 0 || topK > n ? n : topK
  if (topPBits === 0) return k
  const target = binaryProgram.mul(f32FromBits(topPBits), running(k - 1))
  for (let q = 0; q < k; q++) if (running(q) >= target) return q + 1
  return k
}

const rowOf = (n: number, e: number): [number, number] => {
  if (n === 0) throw new ProgramError('a sampling op over rows of 0 elements has nothing to read')
  return [Math.floor(e / n), e % n]
}

export const SAMPLING_PROGRAMS: Record<SamplingOp, ElementProgram> = {
  // exp((x − x[a]) / t): the weight of token i at temperature t, relative to the greedy
  // token a (its weight is 1). Inputs: logits, the ARGMAX of their row, the params.
  WEIGHT: (op, e, _ctx, read) => {
    const [n, row, at] = op.attrs
    const [r, i] = rowOf(n, e)
    const best = read(1, r)
    if (best < 0 || best >= n) throw new ProgramError(`argmax ${best} is outside a row of ${n}`)
    const first = (row + r) * n
    const t = f32FromBits(read(2, at) >>> 0)
    return expf(binaryProgram.div(binaryProgram.sub(read(0, first + i), read(0, first + best)), t))
  },
  // i32: how many tokens of the row come before token i in likelihood order (a permutation).
  RANK: (op, e, _ctx, read) => {
    const [n, row] = op.attrs
    const [r, i] = rowOf(n, e)
    const first = (row + r) * n
    const x = read(0, first + i)
    let rank = 0
    for (let j = 0; j < n; j++) if (comesBefore(read(0, first + j), j, x, i)) rank++
    return rank
  },
  // acc from +0 over a[row start .. e], in index order.
  SCAN: (op, e, _ctx, read) => {
    const [r, i] = rowOf(op.attrs[0], e)
    const first = r * op.attrs[0]
    let acc = 0
    for (let q = first; q <= first + i; q++) acc = binaryProgram.add(acc, read(0, q))
    return acc
  },
  // w[e] if top-k and top-p keep token e, else +0. Inputs: the running weights in
  // likelihood order, the ranks, the weights, the params.
  KEEP: (op, e, _ctx, read) => {
    const [n, at] = op.attrs
    if (e >= n) throw new ProgramError(`KEEP has one row of ${n}, not element ${e}`)
    const cut = keptCount(q => read(0, q), n, read(3, at) >>> 0, read(3, at + 1) >>> 0)
    return read(1, e) < cut ? read(2, e) : 0
  },
  // The uniform of the token being sampled: its seed and index are the dispute's context.
  UNIFORM_AT: (op, e, ctx) => uniform(ctx.seed, op.attrs[0], (ctx.step + e) >>> 0),
  // i32: the first index whose running weight exceeds u × the row's total, else the fallback.
  FINDFIRST: (op, e, _ctx, read) => {
    const n = op.attrs[0]
    if (n === 0) throw new ProgramError('a FINDFIRST over rows of 0 elements has no index')
    const first = e * n
    const target = binaryProgram.mul(read(1, e), read(0, first + n - 1))
    for (let i = 0; i < n; i++) if (read(0, first + i) > target) return i
    return read(2, e)
  }
}
