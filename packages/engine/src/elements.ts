import { f, sqrtf } from './numerics.ts'
import { binaryProgram, unaryProgram, type BinaryOp, type UnaryOp } from './ops.ts'
import { PURPOSE, random32, uniform } from './prng.ts'
import { OPCODE, ProgramError, floatOf, type ElementContext, type ProgramOp } from './program.ts'
import { proveElements, type RangeProof } from './proofs.ts'
import type { Tensor } from './tensor.ts'

/**
 * The element programs of docs/step-program.md, one element at a time: what the
 * contracts' provers compute. Inputs are read through `read(input, index)` (a value:
 * a float for f32, an integer for i32), so the same code also tells which elements
 * an element reads (`elementReads`) and thus which openings a challenger sends.
 */

export type Reader = (input: number, index: number) => number

const BINARY: Record<number, BinaryOp> = { 1: 'add', 2: 'sub', 3: 'mul', 4: 'div', 5: 'max', 6: 'cmpge' }
const UNARY: Record<number, UnaryOp> = { 7: 'neg', 8: 'exp', 9: 'log', 10: 'sqrt', 11: 'recip' }

/** Σ idx_d·strides_d for element e's multi-index over dims (row-major). */
function stridedIndex (e: number, dims: readonly number[], strides: readonly number[]): number {
  let at = 0
  for (let d = dims.length - 1; d >= 0; d--) {
    const i = e % dims[d]
    e = (e - i) / dims[d]
    at += i * strides[d]
  }
  return at
}

/** Output element e of `op`: a float (f32 ops) or an integer (i32 ops). */
export function evaluateElement (op: ProgramOp, e: number, ctx: ElementContext, read: Reader, inputLength: (input: number) => number): number {
  const a = op.attrs
  const rank = op.dims.length
  const code = op.code
  if (BINARY[code] !== undefined) {
    return binaryProgram[BINARY[code]](read(0, stridedIndex(e, op.dims, a.slice(0, rank))), read(1, stridedIndex(e, op.dims, a.slice(rank))))
  }
  if (UNARY[code] !== undefined) return unaryProgram[UNARY[code]](read(0, e))
  switch (code) {
    case OPCODE.COPY: return read(0, stridedIndex(e, op.dims, a))
    case OPCODE.SUM:
    case OPCODE.MAXR: {
      const end = Math.min(e * a[0] + a[0], inputLength(0))
      let acc = code === OPCODE.SUM ? 0 : -Infinity
      for (let i = e * a[0]; i < end; i++) acc = code === OPCODE.SUM ? f(acc + read(0, i)) : binaryProgram.max(acc, read(0, i))
      return acc
    }
    case OPCODE.DOT: {
      const [m, n, k, bBatched] = a
      const b = Math.floor(e / (m * n))
      const i = Math.floor(e / n) % m
      const j = e % n
      const rowA = (b * m + i) * k
      const rowB = ((bBatched === 1 ? b * n : 0) + j) * k
      let acc = 0
      for (let q = 0; q < k; q++) acc = f(acc + f(read(0, rowA + q) * read(1, rowB + q)))
      return acc
    }
    case OPCODE.SCATTER: {
      const [, p] = a
      const d = op.dims[1]
      const r = Math.floor(e / d)
      const column = e % d
      let acc = 0
      for (let q = 0; q < p; q++) if (read(1, q) === r) acc = f(acc + read(0, column * p + q))
      return acc
    }
    case OPCODE.GATHER: {
      const [rows, d] = a
      const row = read(1, Math.floor(e / d))
      if (row < 0 || row >= rows) throw new ProgramError(`gather index ${row} is outside a table of ${rows} rows`)
      return read(0, row * d + (e % d))
    }
    case OPCODE.WINDOW: {
      const [batch, width, offset, window] = a
      const row = Math.floor(e / width)
      const start = random32(ctx.seed, PURPOSE.DATA, ctx.step * batch + row) % (inputLength(0) - window)
      return read(0, start + offset + (e % width))
    }
    case OPCODE.ONEHOT: return read(0, Math.floor(e / a[0])) === e % a[0] ? 1 : 0
    case OPCODE.ROPE: {
      const [dh, t] = a
      const h = dh / 2
      const j = e % dh
      const pos = Math.floor(e / dh) % t
      const c = read(1, pos * h + (j % h))
      const s = read(2, pos * h + (j % h))
      return j < h ? f(f(read(0, e) * c) - f(read(0, e + h) * s)) : f(f(read(0, e) * c) + f(read(0, e - h) * s))
    }
    case OPCODE.CONCAT: return read(e, 0)
    case OPCODE.UNIFORM: return f(f(f(uniform(ctx.seed, PURPOSE.INIT_BASE + a[0], e) * 2) - 1) * floatOf(a[1]))
    case OPCODE.FILL: return floatOf(a[0])
    case OPCODE.CLIP: {
      const clip = floatOf(a[0])
      if (clip === 0) return 1
      const scale = f(clip / f(sqrtf(read(0, 0)) + f(1e-6)))
      return scale < 1 ? scale : 1
    }
    case OPCODE.ADAM_M: {
      const g = f(read(0, e) * read(2, 0))
      return f(f(floatOf(a[0]) * read(1, e)) + f(floatOf(a[1]) * g))
    }
    case OPCODE.ADAM_V: {
      const g = f(read(0, e) * read(2, 0))
      return f(f(floatOf(a[0]) * read(1, e)) + f(f(floatOf(a[1]) * g) * g))
    }
    case OPCODE.ADAM_P: {
      const [lr, c1, c2] = [0, 1, 2].map(i => read(3, 3 * ctx.step + i))
      const p = read(0, e)
      let u = f(f(read(1, e) / c1) / f(sqrtf(f(read(2, e) / c2)) + floatOf(a[0])))
      if (a[2] !== 0) u = f(u + f(floatOf(a[1]) * p))
      return f(p - f(lr * u))
    }
    default: throw new ProgramError(`unknown op code ${code}`)
  }
}

/** Element e of op from whole input tensors. */
export function evaluateFrom (op: ProgramOp, e: number, ctx: ElementContext, inputs: readonly Tensor[]): number {
  return evaluateElement(op, e, ctx, (i, index) => {
    if (index < 0 || index >= inputs[i].size) throw new ProgramError(`element ${e} reads element ${index} of input ${i}, which has ${inputs[i].size}`)
    return inputs[i].data[index]
  }, i => inputs[i].size)
}

/** The first and last element of each input that element e reads (null: none). */
export function elementReads (op: ProgramOp, e: number, ctx: ElementContext, inputs: readonly Tensor[]): Array<[number, number] | null> {
  const ranges: Array<[number, number] | null> = op.inputs.map(() => null)
  evaluateElement(op, e, ctx, (i, index) => {
    const r = ranges[i]
    ranges[i] = r === null ? [index, index] : [Math.min(r[0], index), Math.max(r[1], index)]
    return inputs[i].data[index]
  }, i => inputs[i].size)
  return ranges
}

/** Range proofs of everything element e reads: the openings a challenger sends. */
export function openingsFor (op: ProgramOp, e: number, ctx: ElementContext, inputs: readonly Tensor[]): Array<RangeProof | null> {
  return elementReads(op, e, ctx, inputs).map((r, i) => r === null ? null : proveElements(inputs[i], r[0], r[1]))
}
