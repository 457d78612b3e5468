import { attention, attentionBackward } from './attention.ts'
import type { AttentionGrads, AttentionSaved, EngineContext } from './context.ts'
import * as ops from './ops.ts'
import { Tensor, ShapeError } from './tensor.ts'

/**
 * Reverse-mode autograd over the primitive ops. A Var records the op that made it;
 * `backward` walks the graph newest first and asks GRADIENTS for one gradient per
 * input. The walk order is fixed, so gradient accumulation is deterministic too. Every
 * op, forward and backward, runs on the context it is given.
 */

type OpName = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'neg' | 'exp' | 'log' | 'sqrt' | 'recip' |
  'sum' | 'matmul' | 'reshape' | 'permute' | 'expand' | 'gather' | 'rope' | 'attention'

interface Attrs {
  axis?: number
  transA?: boolean
  transB?: boolean
  shape?: readonly number[]
  axes?: readonly number[]
  scale?: number
  saved?: AttentionSaved
}

let created = 0

export class Var {
  readonly id = created++
  grad: Tensor | null = null
  value: Tensor
  readonly op: OpName | null
  readonly inputs: Var[]
  readonly attrs: Attrs
  readonly requiresGrad: boolean

  constructor (value: Tensor, op: OpName | null = null, inputs: Var[] = [], attrs: Attrs = {}, requiresGrad = inputs.some(v => v.requiresGrad)) {
    this.value = value
    this.op = op
    this.inputs = inputs
    this.attrs = attrs
    this.requiresGrad = requiresGrad
  }

  get shape (): readonly number[] {
    return this.value.shape
  }
}

/** A trainable value. */
export const param = (t: Tensor): Var => new Var(t, null, [], {}, true)
/** A value gradients do not flow into (data, masks, tables). */
export const constant = (t: Tensor): Var => new Var(t, null, [], {}, false)

const node = (value: Tensor, op: OpName, inputs: Var[], attrs: Attrs = {}): Var => new Var(value, op, inputs, attrs)

export const add = (ctx: EngineContext, a: Var, b: Var): Var => node(ops.binary(ctx, 'add', a.value, b.value), 'add', [a, b])
export const sub = (ctx: EngineContext, a: Var, b: Var): Var => node(ops.binary(ctx, 'sub', a.value, b.value), 'sub', [a, b])
export const mul = (ctx: EngineContext, a: Var, b: Var): Var => node(ops.binary(ctx, 'mul', a.value, b.value), 'mul', [a, b])
export const div = (ctx: EngineContext, a: Var, b: Var): Var => node(ops.binary(ctx, 'div', a.value, b.value), 'div', [a, b])
export const maximum = (ctx: EngineContext, a: Var, b: Var): Var => node(ops.binary(ctx, 'max', a.value, b.value), 'max', [a, b])
export const neg = (ctx: EngineContext, a: Var): Var => node(ops.unary(ctx, 'neg', a.value), 'neg', [a])
export const exp = (ctx: EngineContext, a: Var): Var => node(ops.unary(ctx, 'exp', a.value), 'exp', [a])
export const log = (ctx: EngineContext, a: Var): Var => node(ops.unary(ctx, 'log', a.value), 'log', [a])
export const sqrt = (ctx: EngineContext, a: Var): Var => node(ops.unary(ctx, 'sqrt', a.value), 'sqrt', [a])
export const recip = (ctx: EngineContext, a: Var): Var => node(ops.unary(ctx, 'recip', a.value), 'recip', [a])
export const sum = (ctx: EngineContext, a: Var, axis: number): Var => node(ops.reduce(ctx, 'sum', a.value, axis, true), 'sum', [a], { axis })
/** Max along an axis, as a constant: gradients do not flow through it. */
export const maxDetached = (ctx: EngineContext, a: Var, axis: number): Var => constant(ops.reduce(ctx, 'max', a.value, axis, true))
export const matmul = (ctx: EngineContext, a: Var, b: Var, transA = false, transB = false): Var =>
  node(ops.matmul(ctx, a.value, b.value, transA, transB), 'matmul', [a, b], { transA, transB })
/** A view of the same data: no op runs. */
export const reshape = (a: Var, shape: readonly number[]): Var => node(a.value.reshape(shape), 'reshape', [a], { shape })
export const permute = (ctx: EngineContext, a: Var, axes: readonly number[]): Var => node(ops.permute(ctx, a.value, axes), 'permute', [a], { axes })
/** Broadcast to `shape` (numpy rules); its gradient sums back over the broadcast axes. */
export const expand = (ctx: EngineContext, a: Var, shape: readonly number[]): Var => node(ops.expand(ctx, a.value, shape), 'expand', [a], { shape })
export const gather = (ctx: EngineContext, table: Var, indices: Var): Var => node(ops.gather(ctx, table.value, indices.value), 'gather', [table, indices])
export const rope = (ctx: EngineContext, x: Var, cos: Var, sin: Var): Var => node(ops.rope(ctx, x.value, cos.value, sin.value), 'rope', [x, cos, sin])
/** Causal attention over heads (see attention.ts); mask is a constant [T, T]. */
export const attentionHeads = (ctx: EngineContext, q: Var, k: Var, v: Var, mask: Var, scale: number): Var => {
  const { out, saved } = attention(ctx, q.value, k.value, v.value, mask.value, scale)
  return node(out, 'attention', [q, k, v, mask], { scale, saved })
}

/** A gradient, computed only if its input needs one. */
type Grad = (() => Tensor) | null

/** One gradient per input, given the output's gradient g. */
const GRADIENTS: Record<OpName, (ctx: EngineContext, g: Tensor, v: Var) => Grad[]> = {
  add: (ctx, g, v) => [() => ops.sumTo(ctx, g, v.inputs[0].shape), () => ops.sumTo(ctx, g, v.inputs[1].shape)],
  sub: (ctx, g, v) => [() => ops.sumTo(ctx, g, v.inputs[0].shape), () => ops.sumTo(ctx, ops.unary(ctx, 'neg', g), v.inputs[1].shape)],
  mul: (ctx, g, v) => [
    () => ops.sumTo(ctx, ops.binary(ctx, 'mul', g, v.inputs[1].value), v.inputs[0].shape),
    () => ops.sumTo(ctx, ops.binary(ctx, 'mul', g, v.inputs[0].value), v.inputs[1].shape)
  ],
  div: (ctx, g, v) => {
    const [a, b] = v.inputs.map(i => i.value)
    const ga = (): Tensor => ops.binary(ctx, 'div', g, b)
    return [() => ops.sumTo(ctx, ga(), a.shape), () => ops.sumTo(ctx, ops.unary(ctx, 'neg', ops.binary(ctx, 'mul', ga(), v.value)), b.shape)]
  },
  max: (ctx, g, v) => {
    const [a, b] = v.inputs.map(i => i.value)
    const ga = (): Tensor => ops.binary(ctx, 'mul', g, ops.binary(ctx, 'cmpge', a, b))
    return [() => ops.sumTo(ctx, ga(), a.shape), () => ops.sumTo(ctx, ops.binary(ctx, 'sub', g, ga()), b.shape)]
  },
  neg: (ctx, g) => [() => ops.unary(ctx, 'neg', g)],
  exp: (ctx, g, v) => [() => ops.binary(ctx, 'mul', g, v.value)],
  log: (ctx, g, v) => [() => ops.binary(ctx, 'div', g, v.inputs[0].value)],
  sqrt: (ctx, g, v) => [() => ops.binary(ctx, 'div', g, ops.binary(ctx, 'add', v.value, v.value))],
  recip: (ctx, g, v) => [() => ops.unary(ctx, 'neg', ops.binary(ctx, 'mul', ops.binary(ctx, 'mul', g, v.value), v.value))],
  sum: (ctx, g, v) => [() => ops.expand(ctx, g, v.inputs[0].shape)],
  matmul: (ctx, g, v) => {
    const [a, b] = v.inputs.map(i => i.value)
    const { transA, transB } = v.attrs
    // C = op(A)·op(B): dA = g·op(B)ᵀ (transposed back if A was), dB likewise.
    const ga = (): Tensor => transA === true ? ops.matmul(ctx, b, g, transB, true) : ops.matmul(ctx, g, b, false, transB !== true)
    if (b.shape.length === 2 && a.shape.length > 2) return [ga, () => sumBatches(ctx, a, g, transA === true, transB === true)]
    return [ga, () => transB === true ? ops.matmul(ctx, g, a, true, transA) : ops.matmul(ctx, a, g, transA !== true, false)]
  },
  reshape: (_, g, v) => [() => g.reshape(v.inputs[0].shape)],
  permute: (ctx, g, v) => {
    const axes = v.attrs.axes as readonly number[]
    return [() => ops.permute(ctx, g, axes.map((_, i) => axes.indexOf(i)))]
  },
  expand: (ctx, g, v) => [() => ops.sumTo(ctx, g, v.inputs[0].shape)],
  gather: (ctx, g, v) => [() => ops.scatterAdd(ctx, g, v.inputs[1].value, v.inputs[0].shape[0]), null],
  rope: (ctx, g, v) => [() => ops.rope(ctx, g, v.inputs[1].value, ops.unary(ctx, 'neg', v.inputs[2].value)), null, null],
  attention: (ctx, g, v) => {
    const [q, k, val] = v.inputs.map(i => i.value)
    let grads: AttentionGrads | undefined
    const all = (): AttentionGrads => (grads ??= attentionBackward(ctx, g, q, k, val, v.attrs.saved as AttentionSaved, v.attrs.scale as number))
    return [() => all().dq, () => all().dk, () => all().dv, null]
  }
}

/** dB for a batched A times a shared B: fold the batch into the rows, one product. */
function sumBatches (ctx: EngineContext, a: Tensor, g: Tensor, transA: boolean, transB: boolean): Tensor {
  if (transA) throw new ShapeError('a shared right operand needs an untransposed batched left operand')
  const k = a.shape[a.shape.length - 1]
  const n = g.shape[g.shape.length - 1]
  const rows = a.size / k
  const flatA = a.reshape([rows, k])
  const flatG = g.reshape([rows, n])
  return transB ? ops.matmul(ctx, flatG, flatA, true, false) : ops.matmul(ctx, flatA, flatG, true, false)
}

/** Fills `.grad` of every Var that `loss` depends on and that requires a gradient. */
export function backward (ctx: EngineContext, loss: Var): void {
  if (loss.value.size !== 1) throw new ShapeError('backward starts from a scalar')
  const order: Var[] = []
  const seen = new Set<Var>()
  const visit = (v: Var): void => {
    if (seen.has(v) || !v.requiresGrad) return
    seen.add(v)
    for (const input of v.inputs) visit(input)
    order.push(v)
  }
  visit(loss)
  order.sort((x, y) => y.id - x.id)
  loss.grad = Tensor.from(loss.shape, [1])
  for (const v of order) {
    if (v.op === null || v.grad === null) continue
    const grads = GRADIENTS[v.op](ctx, v.grad, v)
    if (grads.length !== v.inputs.length) throw new Error(`gradient of ${v.op} returned ${grads.length} values for ${v.inputs.length} inputs`)
    v.inputs.forEach((input, i) => {
      const grad = grads[i]
      if (grad === null || !input.requiresGrad) return
      const g = grad()
      input.grad = input.grad === null ? g : ops.binary(ctx, 'add', input.grad, g)
    })
    if (v.inputs.length > 0) v.grad = null // intermediate gradients are not kept
  }
}
