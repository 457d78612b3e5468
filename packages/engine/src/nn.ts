import { add, attentionHeads, constant, div, exp, log, maxDetached, mul, neg, permute, recip, reshape, rope, sqrt, sub, sum, type Var } from './autograd.ts'
import { f, sqrtf } from '@commons/protocol'
import { Tensor } from './tensor.ts'

/** Composed ops: everything here is built from the primitives, so gradients come for free. */

export const scalar = (x: number): Var => constant(Tensor.scalar(f(x)))

/** mean along an axis (keepdim): the sum divided by the count. */
export function mean (x: Var, axis: number): Var {
  const n = x.shape[axis < 0 ? x.shape.length + axis : axis]
  return div(sum(x, axis), scalar(n))
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w. */
export function rmsNorm (x: Var, w: Var, eps: number): Var {
  const rms = sqrt(add(mean(mul(x, x), -1), scalar(eps)))
  return mul(mul(x, recip(rms)), w)
}

/** softmax over the last axis, shifted by the (constant) row max. */
export function softmax (x: Var): Var {
  const e = exp(sub(x, maxDetached(x, -1)))
  return div(e, sum(e, -1))
}

/** silu(x) = x / (1 + e^(−x)). */
export function silu (x: Var): Var {
  return div(x, add(scalar(1), exp(neg(x))))
}

/**
 * Mean cross-entropy of logits [N, V] against one-hot targets [N, V]:
 * mean(logsumexp(x) − Σ x·onehot).
 */
export function crossEntropy (logits: Var, onehot: Var): Var {
  const shifted = sub(logits, maxDetached(logits, -1))
  const lse = log(sum(exp(shifted), -1))
  const picked = sum(mul(shifted, onehot), -1)
  const perRow = sub(lse, picked) // [N, 1]
  return mean(reshape(perRow, [1, perRow.shape[0]]), -1)
}

/**
 * Causal multi-head attention. q, k, v: [B, T, D] → [B, T, D], with heads of size
 * D/H, RoPE on q and k, scores scaled by 1/√(D/H) and masked above the diagonal.
 */
export function attention (q: Var, k: Var, v: Var, heads: number, tables: { cos: Var, sin: Var, mask: Var }): Var {
  const [b, t, d] = q.shape
  const dh = d / heads
  const split = (x: Var): Var => permute(reshape(x, [b, t, heads, dh]), [0, 2, 1, 3]) // (B, H, T, Dh)
  const qh = rope(split(q), tables.cos, tables.sin)
  const kh = rope(split(k), tables.cos, tables.sin)
  // softmax(q·kᵀ·scale + mask)·v as one op: the same bits as composing it (ops.attention).
  const out = attentionHeads(qh, kh, split(v), tables.mask, f(1 / sqrtf(dh))) // (B, H, T, Dh)
  return reshape(permute(out, [0, 2, 1, 3]), [b, t, d])
}
