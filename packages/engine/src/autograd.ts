import * as ops from './ops.ts'
import { Tensor, ShapeError } from './tensor.ts'

/**
 * Reverse-mode autograd over the primitive ops. A Var records the op that made it;
 * `backward` walks the graph newest first and asks GRADIENTS for one gradient per
 * input. The walk order is fixed, so gradient accumulation is deterministic too.
 */

type OpName = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'neg' | 'exp' | 'log' | 'sqrt' | 'recip' |
  'sum' | 'matmul' | 'reshape' | 'permute' | 'gather' | 'rope' | 'attention'

interface Attrs {
  axis?: number
  transA?: boolean
  transB?: boolean
  shape?: readonly number[]
  axes?: readonly number[]
  scale?: number
  saved?: ops.AttentionSaved
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

export const add = (a: Var, b: Var): Var => node(ops.binary('add', a.value, b.value), 'add', [a, b])
export const sub = (a: Var, b: Var): Var => node(ops.binary('sub', a.value, b.value), 'sub', [a, b])
export const mul = (a: Var, b: Var): Var => node(ops.binary('mul', a.value, b.value), 'mul', [a, b])
export const div = (a: Var, b: Var): Var => node(ops.binary('div', a.value, b.value), 'div', [a, b])
export const maximum = (a: Var, b: Var): Var => node(ops.binary('max', a.value, b.value), 'max', [a, b])
export const neg = (a: Var): Var => node(ops.unary('neg', a.value), 'neg', [a])
export const exp = (a: Var): Var => node(ops.unary('exp', a.value), 'exp', [a])
export const log = (a: Var): Var => node(ops.unary('log', a.value), 'log', [a])
export const sqrt = (a: Var): Var => node(ops.unary('sqrt', a.value), 'sqrt', [a])
export const recip = (a: Var): Var => node(ops.unary('recip', a.value), 'recip', [a])
export const sum = (a: Var, axis: number): Var => node(ops.reduce('sum', a.value, axis, true), 'sum', [a], { axis })
/** Max along an axis, as a constant: gradients do not flow through it. */
export const maxDetached = (a: Var, axis: number): Var => constant(ops.reduce('max', a.value, axis, true))
export const matmul = (a: Var, b: Var, transA = false, transB = false): Var =>
  node(ops.matmul(a.value, b.value, transA, transB), 'matmul', [a, b], { transA, transB })
export const reshape = (a: Var, shape: readonly number[]): Var => node(a.value.reshape(shape), 'reshape', [a], { shape })
export const permute = (a: Var, axes: readonly number[]): Var => node(ops.permute(a.value, axes), 'permute', [a], { axes })
export const gather = (table: Var, indices: Var): Var => node(ops.gather(table.value, indices.value), 'gather', [table, indices])
export const rope = (x: Var, cos: Var, sin: Var): Var => node(ops.rope(x.value, cos.value, sin.value), 'rope', [x, cos, sin])
/** Causal attention over heads (see ops.attention); mask is a constant [T, T]. */
export const attentionHeads = (q: Var, k: Var, v: Var, mask: Var, scale: number): Var => {
  const { out, saved } = ops.attention(q.value, k.value, v.value, mask.value, scale)
  return node(out, 'attention', [q, k, v, mask], { scale, saved })
}

const T = ops

/** A gradient, computed only if its input needs one. */
type Grad = (() => Tensor) | null

/** One gradient per input, given the output's gradient g. */
const GRADIENTS: Record<OpName, (g: Tensor, v: Var) => Grad[]> = {
  add: (g, v) => [() => T.sumTo(g, v.inputs[0].shape), () => T.sumTo(g, v.inputs[1].shape)],
  sub: (g, v) => [() => T.sumTo(g, v.inputs[0].shape), () => T.sumTo(T.unary('neg', g), v.inputs[1].shape)],
  mul: (g, v) => [
    () => T.sumTo(T.binary('mul', g, v.inputs[1].value), v.inputs[0].shape),
    () => T.sumTo(T.binary('mul', g, v.inputs[0].value), v.inputs[1].shape)
  ],
  div: (g, v) => {
    const [a, b] = v.inputs.map(i => i.value)
    const ga = (): Tensor => T.binary('div', g, b)
    return [() => T.sumTo(ga(), a.shape), () => T.sumTo(T.unary('neg', T.binary('mul', ga(), v.value)), b.shape)]
  },
  max: (g, v) => {
    const [a, b] = v.inputs.map(i => i.value)
    const ga = (): Tensor => T.binary('mul', g, T.binary('cmpge', a, b))
    return [() => T.sumTo(ga(), a.shape), () => T.sumTo(T.binary('sub', g, ga()), b.shape)]
  },
  neg: g => [() => T.unary('neg', g)],
  exp: (g, v) => [() => T.binary('mul', g, v.value)],
  log: (g, v) => [() => T.binary('div', g, v.inputs[0].value)],
  sqrt: (g, v) => [() => T.binary('div', g, T.binary('add', v.value, v.value))],
  recip: (g, v) => [() => T.unary('neg', T.binary('mul', T.binary('mul', g, v.value), v.value))],
  sum: (g, v) => [() => T.expand(g, v.inputs[0].shape)],
  matmul: (g, v) => {
    const [a, b] = v.inputs.map(i => i.value)
    const { transA, transB } = v.attrs
    // C = op(A)·op(B): dA = g·op(B)ᵀ (transposed back if A was), dB likewise.
    const ga = (): Tensor => transA === true ? T.matmul(b, g, transB, true) : T.matmul(g, b, false, transB !== true)
    if (b.shape.length === 2 && a.shape.length > 2) return [ga, () => sumBatches(a, g, transA === true, transB === true)]
    return [ga, () => transB === true ? T.matmul(g, a, true, transA) : T.matmul(a, g, transA !== true, false)]
  },
  reshape: (g, v) => [() => g.reshape(v.inputs[0].shape)],
  permute: (g, v) => {
    const axes = v.attrs.axes as readonly number[]
    return [() => T.permute(g, axes.map((_, i) => axes.indexOf(i)))]
  },
  gather: (g, v) => [() => T.scatterAdd(g, v.inputs[1].value, v.inputs[0].shape[0]), null],
  rope: (g, v) => [() => T.rope(g, v.inputs[1].value, T.unary('neg', v.inputs[2].value)), null, null],
  attention: (g, v) => {
    const [q, k, val] = v.inputs.map(i => i.value)
    let grads: { dq: Tensor, dk: Tensor, dv: Tensor } | undefined
    const all = (): { dq: Tensor, dk: Tensor, dv: Tensor } => (grads ??= T.attentionBackward(g, q, k, val, v.attrs.saved as ops.AttentionSaved, v.attrs.scale as number))
    return [() => all().dq, () => all().dk, () => all().dv, null]
  }
}

/** dB for a batched A times a shared B: fold the batch into the rows, one product. */
function sumBatches (a: Tensor, g: Tensor, transA: boolean, transB: boolean): Tensor {
  if (transA) throw new ShapeError('a shared right operand needs an untransposed batched left operand')
  const k = a.shape[a.shape.length - 1]
  const n = g.shape[g.shape.length - 1]
  const rows = a.size / k
  const flatA = a.reshape([rows, k])
  const flatG = g.reshape([rows, n])
  return transB ? T.matmul(flatG, flatA, true, false) : T.matmul(flatA, flatG, true, false)
}

/** Fills `.grad` of every Var that `loss` depends on and that requires a gradient. */
export function backward (loss: Var): void {
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
    const grads = GRADIENTS[v.op](v.grad, v)
    if (grads.length !== v.inputs.length) throw new Error(`gradient of ${v.op} returned ${grads.length} values for ${v.inputs.length} inputs`)
    v.inputs.forEach((input, i) => {
      const grad = grads[i]
      if (grad === null || !input.requiresGrad) return
      const g = grad()
      input.grad = input.grad === null ? g : T.binary('add', input.grad, g)
    })
    if (v.inputs.length > 0) v.grad = null // intermediate gradients are not kept
  }
}
