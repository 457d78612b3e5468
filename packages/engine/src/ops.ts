import { f, expf, logf, binaryProgram, MAX_INPUTS, type BinaryOp, type UnaryOp } from '@commons/protocol'
import { Tensor, ShapeError, broadcastShape, sameShape, size, strides } from './tensor.ts'
export { binaryProgram, unaryProgram, MAX_INPUTS, type BinaryOp, type UnaryOp } from '@commons/protocol'

/**
 * The primitive ops and their reference kernels. Each kernel computes every output
 * element by the op's one per-element program (DESIGN §4): binary32 arithmetic with
 * a rounding after every operation, reductions in increasing index order from the
 * identity, no fused multiply-add. Fast backends replace kernels, never programs.
 */

/** Where op outputs live: plain arrays by default, a backend's shared memory when it has one. */
export interface Allocator {
  /** An array of n floats, zero-filled unless the caller will overwrite every element. */
  f32(n: number, overwritten?: boolean): Float32Array
  /** Called at the start of each training step: earlier outputs may be reused. */
  startStep(): void
}

const plainAllocator: Allocator = { f32: n => new Float32Array(n), startStep: () => {} }
let allocator: Allocator = plainAllocator

export function useAllocator (a: Allocator | null): void {
  allocator = a ?? plainAllocator
}

/** A zero-filled output array from the active allocator. */
export function allocF32 (n: number): Float32Array {
  return allocator.f32(n, false)
}

/** An output array every element of which the caller writes (no zero-fill needed). */
function allocOut (n: number): Float32Array {
  return allocator.f32(n, true)
}

/** Marks a new training step: op outputs of the previous one are no longer needed. */
export function startStep (): void {
  allocator.startStep()
}

/**
 * Sees every op as it runs, with its inputs, outputs and attributes: the step
 * program compiler (program.ts) records one training step with it.
 */
export type OpRecorder = (name: string, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: Record<string, unknown>) => void

let recorder: OpRecorder | null = null

export function useRecorder (r: OpRecorder | null): void {
  recorder = r
}

/** Reports an op to the recorder, if one listens. */
export function record (name: string, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: Record<string, unknown> = {}): void {
  recorder?.(name, inputs, outputs, attrs)
}

/** Reports an op to the recorder, if one listens; returns the op's first output. */
export function recordOp<T extends Tensor> (name: string, inputs: readonly Tensor[], outputs: readonly [T, ...Tensor[]], attrs: Record<string, unknown> = {}): T {
  recorder?.(name, inputs, outputs, attrs)
  return outputs[0]
}

/**
 * Elementwise binary op with numpy broadcasting. The loops are written out per op
 * (a Float32Array store rounds to binary32, so `out[i] = x[i] + y[i]` is the
 * program's f(a + b)); a broadcast operand is first expanded to the output's shape.
 */
export function binary (op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  // add, mul and max are commutative in binary32 (max too: either order picks +0 over −0,
  // and NaN over anything): put the broadcast operand second, where it is read in place.
  if (a.size < b.size && (op === 'add' || op === 'mul' || op === 'max')) [a, b] = [b, a]
  const shape = broadcastShape(a.shape, b.shape)
  const n = size(shape)
  const out = allocOut(n)
  const x = a.size === n ? a.f32 : expandData(a, shape).f32
  if (b.size === 1 && b.shape.length <= shape.length) {
    binaryScalar(op, out, x, b.f32[0])
  } else if (b.size === n) {
    binaryLoop(op, out, x, b.f32)
  } else {
    // A fast backend reads a tile or column operand in place; otherwise expand it.
    const kind = broadcastKind(b.shape, shape)
    const period = kind === 'tile' ? b.size : shape[shape.length - 1]
    const done = kind !== 'general' && fast.binary?.(BINARY_CODE[op], out, x, b.f32, kind, period) === true
    if (!done) binaryLoop(op, out, x, expandData(b, shape).f32)
  }
  return recordOp('binary', [a, b], [new Tensor(shape, out)], { op })
}

const BINARY_CODE: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, cmpge: 5 }

function binaryLoop (op: BinaryOp, out: Float32Array, x: Float32Array, y: Float32Array): void {
  if (fast.binary?.(BINARY_CODE[op], out, x, y, 'full', 0) === true) return
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

function binaryScalar (op: BinaryOp, out: Float32Array, x: Float32Array, v: number): void {
  if (fast.binary?.(BINARY_CODE[op], out, x, Float32Array.of(v), 'scalar', 0) === true) return
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

export function unary (op: UnaryOp, a: Tensor): Tensor {
  return recordOp('unary', [a], [unaryKernel(op, a)], { op })
}

function unaryKernel (op: UnaryOp, a: Tensor): Tensor {
  if (op === 'exp' && fast.exp !== undefined) return fast.exp(a)
  const x = a.f32
  const n = x.length
  const out = allocOut(n)
  const code = op === 'neg' ? 0 : op === 'recip' ? 1 : op === 'sqrt' ? 2 : -1
  if (code >= 0 && fast.unary?.(code, out, x) === true) return new Tensor(a.shape, out)
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
export function reduce (op: 'sum' | 'max', a: Tensor, axis: number, keepdim = true): Tensor {
  const ax = axis < 0 ? a.shape.length + axis : axis
  const n = a.shape[ax]
  if (n > MAX_INPUTS) throw new ShapeError(`a ${op} over ${n} elements reads more than ${MAX_INPUTS} inputs; split it`)
  const outer = size(a.shape.slice(0, ax))
  const inner = size(a.shape.slice(ax + 1))
  const x = a.f32
  const out = allocOut(outer * inner)
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
  return recordOp('reduce', [a], [new Tensor(shape, out)], { op, axis: ax })
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
export function sumTo (a: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(a.shape, shape)) return a
  const out = allocF32(size(shape))
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
  return recordOp('sumTo', [a], [new Tensor(shape, out)])
}

/** Copies `a` broadcast to `shape`. */
export function expand (a: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(a.shape, shape)) return a
  return recordOp('expand', [a], [expandData(a, shape)])
}

function expandData (a: Tensor, shape: readonly number[]): Tensor {
  const x = a.f32
  const out = allocOut(size(shape))
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
export function matmul (a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const out = fast.matmul !== undefined ? fast.matmul(a, b, transA, transB) : referenceMatmul(a, b, transA, transB)
  return recordOp('matmul', [a, b], [out], { transA, transB })
}

/** Kernels a fast backend supplies in place of the reference ones; same bits by contract. */
export interface FastKernels {
  matmul?: (a: Tensor, b: Tensor, transA: boolean, transB: boolean) => Tensor
  exp?: (a: Tensor) => Tensor
  /** Elementwise loops: true when done, false to fall back to JavaScript. */
  binary?: (op: number, out: Float32Array, x: Float32Array, y: Float32Array, how: 'full' | 'scalar' | 'tile' | 'column', period: number) => boolean
  unary?: (op: number, out: Float32Array, x: Float32Array) => boolean
  attention?: typeof referenceAttention
  attentionBackward?: typeof referenceAttentionBackward
}

let fast: FastKernels = {}

/** Routes ops to a fast backend's kernels (or, with {}, back to the reference). */
export function useKernels (kernels: FastKernels): void {
  fast = kernels
}

export function referenceMatmul (a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const { batch, m, k, n, bBatched } = matmulShape(a.shape, b.shape, transA, transB)
  const x = a.f32
  const y = b.f32
  const out = allocOut(batch * m * n)
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
export function permute (a: Tensor, axes: readonly number[]): Tensor {
  const shape = axes.map(i => a.shape[i])
  const inStrides = strides(a.shape)
  const last = shape.length - 1
  // When the last axis stays last, copy whole runs of it; otherwise element by element.
  const run = axes[last] === last ? shape[last] : 1
  const dims = run === 1 ? shape.length : shape.length - 1
  const step = axes.slice(0, dims).map(i => inStrides[i])
  const x = a.data
  const out = a.dtype === 'f32' ? allocOut(x.length) : new Int32Array(x.length)
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
  return recordOp('permute', [a], [new Tensor(shape, out)], { axes })
}

/** Rows of `table` ([V, D]) picked by i32 `indices`: out[.., d] = table[indices[..], d]. */
export function gather (table: Tensor, indices: Tensor): Tensor {
  const [v, d] = table.shape
  const idx = indices.i32
  const x = table.f32
  const out = allocOut(idx.length * d)
  for (let p = 0; p < idx.length; p++) {
    const row = idx[p]
    if (row < 0 || row >= v) throw new ShapeError(`index ${row} is outside a table of ${v} rows`)
    out.set(x.subarray(row * d, row * d + d), p * d)
  }
  return recordOp('gather', [table, indices], [new Tensor([...indices.shape, d], out)])
}

/**
 * The gradient of gather: out[r, d] = Σ over positions p with indices[p] = r of
 * g[p, d], p increasing.
 */
export function scatterAdd (g: Tensor, indices: Tensor, rows: number): Tensor {
  const d = g.shape[g.shape.length - 1]
  const idx = indices.i32
  const x = g.f32
  const out = allocF32(rows * d)
  for (let p = 0; p < idx.length; p++) {
    const o = idx[p] * d
    for (let j = 0; j < d; j++) out[o + j] = f(out[o + j] + x[p * d + j])
  }
  return recordOp('scatterAdd', [g, indices], [new Tensor([rows, d], out)], { rows })
}

/**
 * Rotary position embedding on the last axis (halves rotated, as in llama):
 * for j < h: x_j·cos − x_{j+h}·sin; for j >= h: x_j·cos + x_{j−h}·sin, with the
 * angle tables `cos`, `sin` of shape [T, h] indexed by the position (axis −2).
 * Its gradient is the same op with −sin.
 */
export function rope (x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const dh = x.shape[x.shape.length - 1]
  const t = x.shape[x.shape.length - 2]
  const h = dh / 2
  const c = cos.f32
  const s = sin.f32
  const v = x.f32
  const out = allocOut(v.length)
  for (let base = 0; base < v.length; base += dh) {
    const pos = (base / dh) % t
    for (let j = 0; j < h; j++) {
      const cj = c[pos * h + j]
      const sj = s[pos * h + j]
      out[base + j] = f(f(v[base + j] * cj) - f(v[base + j + h] * sj))
      out[base + j + h] = f(f(v[base + j + h] * cj) + f(v[base + j] * sj))
    }
  }
  return recordOp('rope', [x, cos, sin], [new Tensor(x.shape, out)])
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

/** What the attention op keeps for its gradient: probabilities, exponentials, row sums. */
export interface AttentionSaved {
  p: Tensor
  e: Tensor
  z: Tensor
}

/**
 * Causal attention core over heads: q, k, v [..., T, Dh], mask [T, T], scale a binary32.
 * Per row i, the program is exactly the composition
 *   s_j = (q_i · k_j) · scale + mask_ij      (dot from +0, d increasing)
 *   m = max_j s_j,  e_j = exp(s_j − m),  z = Σ_j e_j,  p_j = e_j / z
 *   out_i = Σ_j p_j · v_j                     (j increasing over all T, masked ones too)
 * so it gives the same bits as matmul, mul, add, max, sub, exp, sum, div and matmul.
 */
export function attention (q: Tensor, k: Tensor, v: Tensor, mask: Tensor, scale: number): { out: Tensor, saved: AttentionSaved } {
  const result = fast.attention !== undefined ? fast.attention(q, k, v, mask, scale) : referenceAttention(q, k, v, mask, scale)
  const { out, saved } = result
  recordOp('attention', [q, k, v, mask], [out, saved.p, saved.e, saved.z], { scale })
  return result
}

export function referenceAttention (q: Tensor, k: Tensor, v: Tensor, mask: Tensor, scaleIn: number): { out: Tensor, saved: AttentionSaved } {
  const scale = f(scaleIn)
  const t = q.shape[q.shape.length - 2]
  const dh = q.shape[q.shape.length - 1]
  const heads = q.size / (t * dh)
  if (2 * dh > MAX_INPUTS || 2 * t > MAX_INPUTS) throw new ShapeError(`attention over ${t} positions of ${dh} reads more than ${MAX_INPUTS} inputs`)
  const Q = q.f32
  const K = k.f32
  const V = v.f32
  const M = mask.f32
  const out = allocOut(q.size)
  const p = allocF32(heads * t * t)
  const e = allocF32(heads * t * t)
  const z = allocF32(heads * t)
  const s = new Float32Array(t)
  for (let h = 0; h < heads; h++) {
    const base = h * t * dh
    for (let i = 0; i < t; i++) {
      const row = (h * t + i) * t
      let max = -Infinity
      for (let j = 0; j < t; j++) {
        let acc = 0
        for (let d = 0; d < dh; d++) acc = f(acc + f(Q[base + i * dh + d] * K[base + j * dh + d]))
        s[j] = f(f(acc * scale) + M[i * t + j])
        max = binaryProgram.max(max, s[j])
      }
      let sum = 0
      for (let j = 0; j < t; j++) {
        e[row + j] = expf(f(s[j] - max))
        sum = f(sum + e[row + j])
      }
      z[h * t + i] = sum
      for (let j = 0; j < t; j++) p[row + j] = f(e[row + j] / sum)
      for (let d = 0; d < dh; d++) {
        let acc = 0
        for (let j = 0; j < t; j++) acc = f(acc + f(p[row + j] * V[base + j * dh + d]))
        out[base + i * dh + d] = acc
      }
    }
  }
  const lead = q.shape.slice(0, -2)
  return {
    out: new Tensor(q.shape, out),
    saved: { p: new Tensor([...lead, t, t], p), e: new Tensor([...lead, t, t], e), z: new Tensor([...lead, t, 1], z) }
  }
}

/**
 * The gradient of attention, exactly as autograd differentiates the composition:
 *   dP_ij = g_i · v_j;  dV_j = Σ_i p_ij g_i (i increasing)
 *   a_ij = dP_ij / z_i;  gz_i = Σ_j −(a_ij · p_ij);  de_ij = a_ij + gz_i
 *   ds_ij = (de_ij · e_ij) · scale
 *   dQ_i = Σ_j ds_ij k_j;  dK_j = Σ_i ds_ij q_i
 */
export function attentionBackward (g: Tensor, q: Tensor, k: Tensor, v: Tensor, saved: AttentionSaved, scale: number): { dq: Tensor, dk: Tensor, dv: Tensor } {
  const grads = fast.attentionBackward !== undefined ? fast.attentionBackward(g, q, k, v, saved, scale) : referenceAttentionBackward(g, q, k, v, saved, scale)
  recordOp('attentionBackward', [g, q, k, v, saved.p, saved.e, saved.z], [grads.dq, grads.dk, grads.dv], { scale })
  return grads
}

export function referenceAttentionBackward (g: Tensor, q: Tensor, k: Tensor, v: Tensor, saved: AttentionSaved, scaleIn: number): { dq: Tensor, dk: Tensor, dv: Tensor } {
  const scale = f(scaleIn)
  const t = q.shape[q.shape.length - 2]
  const dh = q.shape[q.shape.length - 1]
  const heads = q.size / (t * dh)
  const [G, Q, K, V, P, E, Z] = [g.f32, q.f32, k.f32, v.f32, saved.p.f32, saved.e.f32, saved.z.f32]
  const dq = allocF32(q.size)
  const dk = allocF32(k.size)
  const dv = allocF32(v.size)
  const ds = new Float32Array(t * t)
  for (let h = 0; h < heads; h++) {
    const base = h * t * dh
    for (let i = 0; i < t; i++) {
      const row = (h * t + i) * t
      const zi = Z[h * t + i]
      let gz = 0
      const a = new Float32Array(t)
      for (let j = 0; j < t; j++) {
        let acc = 0
        for (let d = 0; d < dh; d++) acc = f(acc + f(G[base + i * dh + d] * V[base + j * dh + d]))
        a[j] = f(acc / zi)
        gz = f(gz + f(-f(a[j] * P[row + j])))
      }
      for (let j = 0; j < t; j++) ds[i * t + j] = f(f(f(a[j] + gz) * E[row + j]) * scale)
    }
    for (let j = 0; j < t; j++) {
      for (let d = 0; d < dh; d++) {
        let accV = 0
        let accK = 0
        for (let i = 0; i < t; i++) {
          accV = f(accV + f(P[(h * t + i) * t + j] * G[base + i * dh + d]))
          accK = f(accK + f(ds[i * t + j] * Q[base + i * dh + d]))
        }
        dv[base + j * dh + d] = accV
        dk[base + j * dh + d] = accK
      }
    }
    for (let i = 0; i < t; i++) {
      for (let d = 0; d < dh; d++) {
        let acc = 0
        for (let j = 0; j < t; j++) acc = f(acc + f(ds[i * t + j] * K[base + j * dh + d]))
        dq[base + i * dh + d] = acc
      }
    }
  }
  return { dq: new Tensor(q.shape, dq), dk: new Tensor(k.shape, dk), dv: new Tensor(v.shape, dv) }
}
