import { binaryProgram, f, f32FromBits, sqrtf, unaryProgram } from './numerics.ts'
import { opName, type BinaryOp, type OpName, type UnaryOp } from './opcodes.ts'
import { PURPOSE, random32, uniform } from './prng.ts'
import { ProgramError, type ElementContext, type ProgramOp } from './program.ts'
import { proveElements, type RangeProof } from './proofs.ts'
import { SAMPLING_PROGRAMS } from './samplingElements.ts'
import type { TensorData } from './words.ts'
import { proveWindowElements, type ElementWindows } from './windowProofs.ts'

/**
 * The element programs of docs/step-program.md, one element at a time: what the
 * contracts' provers compute. Inputs are read through `read(input, index)` (a value:
 * a float for f32, an integer for i32), so the same code also tells which elements
 * an element reads (`elementReads`) and thus which openings a challenger sends.
 */

export type Reader = (input: number, index: number) => number

/** Output element e of an op: a float (f32 ops) or an integer (i32 ops). */
export type ElementProgram = (op: ProgramOp, e: number, ctx: ElementContext, read: Reader, inputLength: (input: number) => number) => number

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

/** Both operands read through their broadcast strides (attrs: the strides of a, then of b). */
const binary = (name: BinaryOp): ElementProgram => (op, e, _ctx, read) => {
  const rank = op.dims.length
  return binaryProgram[name](read(0, stridedIndex(e, op.dims, op.attrs.slice(0, rank))), read(1, stridedIndex(e, op.dims, op.attrs.slice(rank))))
}

const unary = (name: UnaryOp): ElementProgram => (_op, e, _ctx, read) => unaryProgram[name](read(0, e))

/** A fold over a[0] consecutive inputs (the last chunk may be shorter). */
const fold = (step: (acc: number, x: number) => number, identity: number): ElementProgram => (op, e, _ctx, read, inputLength) => {
  const n = op.attrs[0]
  const end = Math.min(e * n + n, inputLength(0))
  let acc = identity
  for (let i = e * n; i < end; i++) acc = step(acc, read(0, i))
  return acc
}

/** Every op's element program, by the one vocabulary: an op without one is a type error. */
const PROGRAMS: Record<OpName, ElementProgram> = {
  ADD: binary('add'),
  SUB: binary('sub'),
  MUL: binary('mul'),
  DIV: binary('div'),
  MAX: binary('max'),
  CMPGE: binary('cmpge'),
  NEG: unary('neg'),
  EXP: unary('exp'),
  LOG: unary('log'),
  SQRT: unary('sqrt'),
  RECIP: unary('recip'),
  COPY: (op, e, _ctx, read) => read(0, stridedIndex(e, op.dims, op.attrs)),
  SUM: fold((acc, x) => f(acc + x), 0),
  MAXR: fold(binaryProgram.max, -Infinity),
  DOT: (op, e, _ctx, read) => {
    const [m, n, k, bBatched] = op.attrs
    const b = Math.floor(e / (m * n))
    const i = Math.floor(e / n) % m
    const j = e % n
    const rowA = (b * m + i) * k
    const rowB = ((bBatched === 1 ? b * n : 0) + j) * k
    let acc = 0
    for (let q = 0; q < k; q++) acc = f(acc + f(read(0, rowA + q) * read(1, rowB + q)))
    return acc
  },
  SCATTER: (op, e, _ctx, read) => {
    const [, p] = op.attrs
    const d = op.dims[1]
    const r = Math.floor(e / d)
    const column = e % d
    let acc = 0
    for (let q = 0; q < p; q++) if (read(1, q) === r) acc = f(acc + read(0, column * p + q))
    return acc
  },
  // The engine's greedy pick (generate.ts argmax): the first index of the row's largest
  // value. A later element replaces the best only if it compares greater, so ties keep
  // the lower index, a NaN never wins, and a NaN at index 0 is kept (nothing is greater).
  ARGMAX: (op, e, _ctx, read) => {
    const [n, row] = op.attrs
    if (n === 0) throw new ProgramError('an ARGMAX over rows of 0 elements has no index')
    const first = (row + e) * n
    let best = 0
    let value = read(0, first)
    for (let i = 1; i < n; i++) {
      const x = read(0, first + i)
      if (x > value) { best = i; value = x }
    }
    return best
  },
  GATHER: (op, e, _ctx, read) => {
    const [rows, d] = op.attrs
    const row = read(1, Math.floor(e / d))
    if (row < 0 || row >= rows) throw new ProgramError(`gather index ${row} is outside a table of ${rows} rows`)
    return read(0, row * d + (e % d))
  },
  WINDOW: (op, e, ctx, read, inputLength) => {
    const [batch, width, offset, window] = op.attrs
    const row = Math.floor(e / width)
    const start = random32(ctx.seed, PURPOSE.DATA, ctx.step * batch + row) % (inputLength(0) - window)
    return read(0, start + offset + (e % width))
  },
  ONEHOT: (op, e, _ctx, read) => read(0, Math.floor(e / op.attrs[0])) === e % op.attrs[0] ? 1 : 0,
  ROPE: (op, e, _ctx, read) => {
    const [dh, t] = op.attrs
    const h = dh / 2
    const j = e % dh
    const pos = Math.floor(e / dh) % t
    const c = read(1, pos * h + (j % h))
    const s = read(2, pos * h + (j % h))
    return j < h ? f(f(read(0, e) * c) - f(read(0, e + h) * s)) : f(f(read(0, e) * c) + f(read(0, e - h) * s))
  },
  CONCAT: (_op, e, _ctx, read) => read(e, 0),
  UNIFORM: (op, e, ctx) => f(f(f(uniform(ctx.seed, PURPOSE.INIT_BASE + op.attrs[0], e) * 2) - 1) * f32FromBits(op.attrs[1])),
  FILL: op => f32FromBits(op.attrs[0]),
  CLIP: (op, _e, _ctx, read) => {
    const clip = f32FromBits(op.attrs[0])
    if (clip === 0) return 1
    const scale = f(clip / f(sqrtf(read(0, 0)) + f(1e-6)))
    return scale < 1 ? scale : 1
  },
  ADAM_M: (op, e, _ctx, read) => {
    const g = f(read(0, e) * read(2, 0))
    return f(f(f32FromBits(op.attrs[0]) * read(1, e)) + f(f32FromBits(op.attrs[1]) * g))
  },
  ADAM_V: (op, e, _ctx, read) => {
    const g = f(read(0, e) * read(2, 0))
    return f(f(f32FromBits(op.attrs[0]) * read(1, e)) + f(f(f32FromBits(op.attrs[1]) * g) * g))
  },
  ADAM_P: (op, e, ctx, read) => {
    const a = op.attrs
    const [lr, c1, c2] = [0, 1, 2].map(i => read(3, 3 * ctx.step + i))
    const p = read(0, e)
    let u = f(f(read(1, e) / c1) / f(sqrtf(f(read(2, e) / c2)) + f32FromBits(a[0])))
    if (a[2] !== 0) u = f(u + f(f32FromBits(a[1]) * p))
    return f(p - f(lr * u))
  },
  ...SAMPLING_PROGRAMS
}

/** Output element e of `op`: a float (f32 ops) or an integer (i32 ops). */
export function evaluateElement (op: ProgramOp, e: number, ctx: ElementContext, read: Reader, inputLength: (input: number) => number): number {
  const name = opName(op.code)
  if (name === undefined) throw new ProgramError(`unknown op code ${op.code}`)
  return PROGRAMS[name](op, e, ctx, read, inputLength)
}

/**
 * An input of an element: a tensor whole in memory, or an i32 tensor read by windows
 * (a stored token stream, which a WINDOW op reads one element of).
 */
export type ElementInput = TensorData | ElementWindows

const inputLength = (input: ElementInput): number => 'data' in input ? input.data.length : input.length
const inputAt = (input: ElementInput, index: number): number => 'data' in input ? input.data[index] : input.subarray(index, index + 1)[0]

/** Element e of op from its inputs (whole tensors, or a token stream read by windows). */
export function evaluateFrom (op: ProgramOp, e: number, ctx: ElementContext, inputs: readonly ElementInput[]): number {
  return evaluateElement(op, e, ctx, (i, index) => {
    const length = inputLength(inputs[i])
    if (index < 0 || index >= length) throw new ProgramError(`element ${e} reads element ${index} of input ${i}, which has ${length}`)
    return inputAt(inputs[i], index)
  }, i => inputLength(inputs[i]))
}

/** The first and last element of each input that element e reads (null: none). */
export function elementReads (op: ProgramOp, e: number, ctx: ElementContext, inputs: readonly ElementInput[]): Array<[number, number] | null> {
  const ranges: Array<[number, number] | null> = op.inputs.map(() => null)
  evaluateElement(op, e, ctx, (i, index) => {
    const r = ranges[i]
    ranges[i] = r === null ? [index, index] : [Math.min(r[0], index), Math.max(r[1], index)]
    return inputAt(inputs[i], index)
  }, i => inputLength(inputs[i]))
  return ranges
}

/** Range proofs of everything element e reads: the openings a challenger sends. */
export function openingsFor (op: ProgramOp, e: number, ctx: ElementContext, inputs: readonly ElementInput[]): Array<RangeProof | null> {
  return elementReads(op, e, ctx, inputs).map((r, i) => {
    if (r === null) return null
    const input = inputs[i]
    return 'data' in input ? proveElements(input, r[0], r[1]) : proveWindowElements(input, r[0], r[1])
  })
}
