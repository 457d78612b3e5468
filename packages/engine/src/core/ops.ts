import { f, expf, logf, binaryProgram, MAX_INPUTS, type BinaryOp, type UnaryOp } from '@commons/protocol'
import { Tensor, ShapeError, broadcastShape, sameShape, size, strides } from './tensor.ts'
import { KERNEL_CODE, allocF32, allocOut, hasUnaryKernel, recordOp, type EngineContext } from './context.ts'
export { binaryProgram, unaryProgram, MAX_INPUTS, type BinaryOp, type UnaryOp } from '@commons/protocol'

/**
 * The primitive ops and their reference kernels. Each kernel computes every output
 * element by the op's one per-element program (docs/design.md §4): binary32 arithmetic with
 * a rounding after every operation, reductions in increasing index order from the
 * identity, no fused multiply-add. Fast backends replace kernels, never programs.
 * Every op runs on the context it is given (context.ts): its allocator, its kernels,
 * its recorder.
 */


/**
 * Elementwise binary op with numpy broadcasting. The loops are written out per op
 * (a Float32Array store rounds to binary32, so `out[i] = x[i] + y[i]` is the
 * program's f(a + b)); a broadcast operand is first expanded to the output's shape.
 */
export function binary (ctx: EngineContext, op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  // add, mul and max are commutative in binary32 (max too: either order picks +0 over −0,
  // and NaN over anything): put the broadcast operand second, where it is read in place.
  if (a.size < b.size && (op === 'add' || op === 'mul' || op === 'max')) [a, b] = [b, a]
  const shape = broadcastShape(a.shape, b.shape)
  const n = size(shape)
  const out = allocOut(ctx, n)
  const x = a.size === n ? a.f32 : expandData(ctx, a, shape).f32
  if (b.size === 1 && b.shape.length <= shape.length) {
    binaryScalar(ctx, op, out, x, b.f32[0])
  } else if (b.size === n) {
    binaryLoop(ctx, op, out, x, b.f32)
  } else {
    // A fast backend reads a tile or column operand in place; otherwise expand it.
    const kind = broadcastKind(b.shape, shape)
    const period = kind === 'tile' ? b.size : shape[shape.length - 1]
    const done = kind !== 'general' && ctx.kernels.binary?.(KERNEL_CODE.binary[op], out, x, b.f32, kind, period) === true
    if (!done) binaryLoop(ctx, op, out, x, expandData(ctx, b, shape).f32)
  }
  return recordOp(ctx, { op: 'binary', kind: op }, [a, b], [new Tensor(shape, out)])
}

function binaryLoop (ctx: EngineContext, op: BinaryOp, out: Float32Array, x: Float32Array, y: Float32Array): void {
  if (ctx.kernels.binary?.(KERNEL_CODE.binary[op], out, x, y, 'full', 0) === true) return
  const n = out.length
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = x[i] + y[i]; break
    case 'sub': for (let i = 0; i < n; i++) out[i] = x[i] - y[i]; break
    case 'mul': for (let i = 0; i < n; i++) out[i] = x[i] * y[i]; break
    case 'div': for (let i = 0; i < n; i++) out[i] = x[i] / y[i]; break
    case 'max': for (let i = 0; i < n; i++) out[i] = binaryProgram.max(x[i], y[i]); break
    case 'cmpge': for (let i = 0; i < n; i++) out[i] = x[i] >= y[i] ? 1 : 0; break
  }
}

function binaryScalar (ctx: EngineContext, op: BinaryOp, out: Float32Array, x: Float32Array, v: number): void {
  if (ctx.kernels.binary?.(KERNEL_CODE.binary[op], out, x, Float32Array.of(v), 'scalar', 0) === true) return
  const n = out.length
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = x[i] + v; break
    case 'sub': for (let i = 0; i < n; i++) out[i] = x[i] - v; break
    case 'mul': for (let i = 0; i < n; i++) out[i] = x[i] * v; break
    case 'div': for (let i = 0; i < n; i++) out[i] = x[i] / v; break
    case 'max': for (let i = 0; i < n; i++) out[i] = binaryProgram.max(x[i], v); break
    case 'cmpge': for (let i = 0; i < n; i++) out[i] = x[i] >= v ? 1 : 0; break
  }
}

/** For each element of `to`, the index of the element of `from` it broadcasts from. */
function broadcastIndices (from: readonly number[], to: readonly number[]): Int32Array {
  const n = size(to)
  const out = new Int32Array(n)
  const fs = strides(from)
  const offset = to.length - from.length
  const step = to.map((d, i) => (i < offset || from[i - offset] === 1) ? 0 : fs[i - offset])
  const index = new Array<number>(to.length).fill(0)
  let at = 0
  for (let i = 0; i < n; i++) {
    out[i] = at
    for (let dim = to.length - 1; dim >= 0; dim--) {
      index[dim]++
      at += step[dim]
      if (index[dim] < to[dim]) break
      at -= step[dim] * to[dim]
      index[dim] = 0
    }
  }
  return out
}

export function unary (ctx: EngineContext, op: UnaryOp, a: Tensor): Tensor {
  return recordOp(ctx, { op: 'unary', kind: op }, [a], [unaryKernel(ctx, op, a)])
}

function unaryKernel (ctx: EngineContext, op: UnaryOp, a: Tensor): Tensor {
  const { kernels } = ctx
  if (op === 'exp' && kernels.exp !== undefined) return kernels.exp(a)
  const x = a.f32
  const n = x.length
  const out = allocOut(ctx, n)
  if (hasUnaryKernel(op) && kernels.unary?.(KERNEL_CODE.unary[op], out, x) === true) return new Tensor(a.shape, out)
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) out[i] = -x[i]; break
    case 'exp': for (let i = 0; i < n; i++) out[i] = expf(x[i]); break
    case 'log': for (let i = 0; i < n; i++) out[i] = logf(x[i]); break
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); break
    case 'recip': for (let i = 0; i < n; i++) out[i] = 1 / x[i]; break
  }
  return new Tensor(a.shape, out)
}

/** Sum or max along one axis, in increasing index order from the identity (0, -inf). */
export function reduce (ctx: EngineContext, op: 'sum' | 'max', a: Tensor, axis: number, keepdim = true): Tensor {
  const ax = axis < 0 ? a.shape.length + axis : axis
  const n = a.shape[ax]
  if (n > MAX_INPUTS) throw new ShapeError(`a ${op} over ${n} elements reads more than ${MAX_INPUTS} inputs; split it`)
  const outer = size(a.shape.slice(0, ax))
  const inner = size(a.shape.slice(ax + 1))
  const x = a.f32
  const out = allocOut(ctx, outer * inner)
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = op === 'sum' ? 0 : -Infinity
      let at = o * n * inner + i
      if (op === 'sum') {
        for (let k = 0; k < n; k++, at += inner) acc = f(acc + x[at])
      } else {
        for (let k = 0; k < n; k++, at += inner) acc = binaryProgram.max(acc, x[at])
      }
      out[o * inner + i] = acc
    }
  }
  const shape = keepdim ? a.shape.map((d, i) => i === ax ? 1 : d) : a.shape.filter((_, i) => i !== ax)
  return recordOp(ctx, { op: 'reduce', kind: op, axis: ax }, [a], [new Tensor(shape, out)])
}

/** How `small` broadcasts to `big`: repeated whole (a tile), repeated along the last axis (a column), or otherwise. */
function broadcastKind (small: readonly number[], big: readonly number[]): 'tile' | 'column' | 'general' {
  let first = 0
  while (first < small.length && small[first] === 1) first++
  const core = small.slice(first)
  if (core.every((d, i) => d === big[big.length - core.length + i])) return 'tile'
  if (small.length === big.length && small[small.length - 1] === 1 && small.slice(0, -1).every((d, i) => d === big[i])) return 'column'
  return 'general'
}

/**
 * Sums a broadcast result back to `shape`: each output element is the sum, in
 * increasing row-major order, of the elements that broadcast from it.
 */
export function sumTo (ctx: EngineContext, a: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(a.shape, shape)) return a
  const out = allocF32(ctx, size(shape))
  const x = a.f32
  const count = a.size / out.length
  if (count > MAX_INPUTS) throw new ShapeError(`summing ${count} elements into one reads more than ${MAX_INPUTS} inputs; split it`)
  const kind = broadcastKind(shape, a.shape)
  if (kind === 'tile') {
    const len = out.length
    for (let at = 0; at < x.length; at += len) for (let j = 0; j < len; j++) out[j] = out[j] + x[at + j]
  } else if (kind === 'column') {
    const d = a.shape[a.shape.length - 1]
    for (let r = 0; r < out.length; r++) {
      let acc = 0
      for (let j = r * d; j < r * d + d; j++) acc = f(acc + x[j])
      out[r] = acc
    }
  } else {
    const from = broadcastIndices(shape, a.shape)
    for (let i = 0; i < x.length; i++) out[from[i]] = out[from[i]] + x[i]
  }
  return recordOp(ctx, { op: 'sumTo' }, [a], [new Tensor(shape, out)])
}

/** Copies `a` broadcast to `shape`. */
export function expand (ctx: EngineContext, a: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(a.shape, shape)) return a
  return recordOp(ctx, { op: 'expand' }, [a], [expandData(ctx, a, shape)])
}

function expandData (ctx: EngineContext, a: Tensor, shape: readonly number[]): Tensor {
  const x = a.f32
  const out = allocOut(ctx, size(shape))
  const kind = broadcastKind(a.shape, shape)
  if (kind === 'tile') {
    for (let at = 0; at < out.length; at += x.length) out.set(x, at)
  } else if (kind === 'column') {
    const d = shape[shape.length - 1]
    for (let r = 0; r < x.length; r++) out.fill(x[r], r * d, r * d + d)
  } else {
    const from = broadcastIndices(a.shape, shape)
    for (let i = 0; i < out.length; i++) out[i] = x[from[i]]
  }
  return new Tensor(shape, out)
}

/**
 * Batched matrix product over the last two axes: C[.., i, j] = Σ_k A[.., i, k] · B[.., k, j],
 * k increasing from +0, a rounding after each product and each sum. `transA`/`transB`
 * read A or B transposed. B may have no batch axes (shared by every batch).
 */
export function matmul (ctx: EngineContext, a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const { kernels } = ctx
  const out = kernels.matmul !== undefined ? kernels.matmul(a, b, transA, transB) : referenceMatmul(ctx, a, b, transA, transB)
  return recordOp(ctx, { op: 'matmul', transA, transB }, [a, b], [out])
}

export function referenceMatmul (ctx: EngineContext, a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const { batch, m, k, n, bBatched } = matmulShape(a.shape, b.shape, transA, transB)
  const x = a.f32
  const y = b.f32
  const out = allocOut(ctx, batch * m * n)
  // Element (i, kk) of A is at aRow·i + aCol·kk; of B (kk, j) at bRow·kk + bCol·j.
  const [aRow, aCol] = transA ? [1, m] : [k, 1]
  const [bRow, bCol] = transB ? [1, k] : [n, 1]
  for (let t = 0; t < batch; t++) {
    const ao = t * m * k
    const bo = bBatched ? t * k * n : 0
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0
        for (let kk = 0; kk < k; kk++) acc = f(acc + f(x[ao + aRow * i + aCol * kk] * y[bo + bRow * kk + bCol * j]))
        out[t * m * n + i * n + j] = acc
      }
    }
  }
  const lead = a.shape.slice(0, -2)
  return new Tensor([...lead, m, n], out)
}

export function matmulShape (a: readonly number[], b: readonly number[], transA: boolean, transB: boolean) {
  if (a.length < 2 || b.length < 2) throw new ShapeError('matmul needs matrices')
  const m = transA ? a[a.length - 1] : a[a.length - 2]
  const k = transA ? a[a.length - 2] : a[a.length - 1]
  const kb = transB ? b[b.length - 1] : b[b.length - 2]
  const n = transB ? b[b.length - 2] : b[b.length - 1]
  if (k !== kb) throw new ShapeError(`matmul inner sizes differ: ${k} and ${kb}`)
  if (2 * k > MAX_INPUTS) throw new ShapeError(`a dot product of ${k} terms reads more than ${MAX_INPUTS} inputs; split it`)
  const batch = size(a.slice(0, -2))
  const bBatched = b.length > 2
  if (bBatched && size(b.slice(0, -2)) !== batch) throw new ShapeError(`matmul batches differ: [${a.join(', ')}] and [${b.join(', ')}]`)
  return { batch, m, k, n, bBatched }
}

/** Reorders axes: out[index permuted] = a[index]. */
export function permute (ctx: EngineContext, a: Tensor, axes: readonly number[]): Tensor {
  const shape = axes.map(i => a.shape[i])
  const inStrides = strides(a.shape)
  const last = shape.length - 1
  // When the last axis stays last, copy whole runs of it; otherwise element by element.
  const run = axes[last] === last ? shape[last] : 1
  const dims = run === 1 ? shape.length : shape.length - 1
  const step = axes.slice(0, dims).map(i => inStrides[i])
  const x = a.data
  const out = a.dtype === 'f32' ? allocOut(ctx, x.length) : new Int32Array(x.length)
  const index = new Array<number>(dims).fill(0)
  let at = 0
  for (let o = 0; o < out.length; o += run) {
    if (run === 1) out[o] = x[at]
    else out.set(x.subarray(at, at + run), o)
    for (let dim = dims - 1; dim >= 0; dim--) {
      index[dim]++
      at += step[dim]
      if (index[dim] < shape[dim]) break
      at -= step[dim] * shape[dim]
      index[dim] = 0
    }
  }
  return recordOp(ctx, { op: 'permute', axes }, [a], [new Tensor(shape, out)])
}

/** Rows of `table` ([V, D]) picked by i32 `indices`: out[.., d] = table[indices[..], d]. */
export function gather (ctx: EngineContext, table: Tensor, indices: Tensor): Tensor {
  const [v, d] = table.shape
  const idx = indices.i32
  const x = table.f32
  const out = allocOut(ctx, idx.length * d)
  for (let p = 0; p < idx.length; p++) {
    const row = idx[p]
    if (row < 0 || row >= v) throw new ShapeError(`index ${row} is outside a table of ${v} rows`)
    out.set(x.subarray(row * d, row * d + d), p * d)
  }
  return recordOp(ctx, { op: 'gather' }, [table, indices], [new Tensor([...indices.shape, d], out)])
}

/**
 * The gradient of gather: out[r, d] = Σ over positions p with indices[p] = r of
 * g[p, d], p increasing.
 */
export function scatterAdd (ctx: EngineContext, g: Tensor, indices: Tensor, rows: number): Tensor {
  const d = g.shape[g.shape.length - 1]
  const idx = indices.i32
  const x = g.f32
  const out = allocF32(ctx, rows * d)
  for (let p = 0; p < idx.length; p++) {
    const o = idx[p] * d
    for (let j = 0; j < d; j++) out[o + j] = f(out[o + j] + x[p * d + j])
  }
  return recordOp(ctx, { op: 'scatterAdd', rows }, [g, indices], [new Tensor([rows, d], out)])
}

/**
 * Rotary position embedding on the last axis (halves rotated, as in llama):
 * for j < h: x_j·cos − x_{j+h}·sin; for j >= h: x_j·cos + x_{j−h}·sin, with the
 * angle tables `cos`, `sin` of shape [T, h] indexed by the position (axis −2).
 * Its gradient is the same op with −sin.
 */
export function rope (ctx: EngineContext, x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const dh = x.shape[x.shape.length - 1]
  const t = x.shape[x.shape.length - 2]
  const h = dh / 2
  const c = cos.f32
  const s = sin.f32
  const v = x.f32
  const out = allocOut(ctx, v.length)
  for (let base = 0; base < v.length; base += dh) {
    const pos = (base / dh) % t
    for (let j = 0; j < h; j++) {
      const cj = c[pos * h + j]
      const sj = s[pos * h + j]
      out[base + j] = f(f(v[base + j] * cj) - f(v[base + j + h] * sj))
      out[base + j + h] = f(f(v[base + j + h] * cj) + f(v[base + j] * sj))
    }
  }
  return recordOp(ctx, { op: 'rope' }, [x, cos, sin], [new Tensor(x.shape, out)])
}

/**
 * The sum of any number of values as a fixed tree of chunks of at most MAX_INPUTS:
 * each chunk summed in order, then the chunk sums the same way. Every partial is an
 * element that reads at most MAX_INPUTS inputs.
 */
export function chunkedSum (values: Float32Array): number {
  if (values.length <= MAX_INPUTS) {
    let acc = 0
    for (let i = 0; i < values.length; i++) acc = f(acc + values[i])
    return acc
  }
  const partials = new Float32Array(Math.ceil(values.length / MAX_INPUTS))
  for (let c = 0; c < partials.length; c++) partials[c] = chunkedSum(values.subarray(c * MAX_INPUTS, (c + 1) * MAX_INPUTS))
  return chunkedSum(partials)
}
