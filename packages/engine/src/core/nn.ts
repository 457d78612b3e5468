import { add, attentionHeads, constant, div, exp, expand, log, maxDetached, mul, neg, permute, recip, reshape, rope, sqrt, sub, sum, type Var } from './autograd.ts'
import type { EngineContext } from './context.ts'
import { f, sqrtf } from '@commons/protocol'
import { Tensor } from './tensor.ts'

/** Composed ops: everything here is built from the primitives, so gradients come for free. */

export const scalar = (x: number): Var => constant(Tensor.scalar(f(x)))

/** mean along an axis (keepdim): the sum divided by the count. */
export function mean (ctx: EngineContext, x: Var, axis: number): Var {
  const n = x.shape[axis < 0 ? x.shape.length + axis : axis]
  return div(ctx, sum(ctx, x, axis), scalar(n))
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w. */
export function rmsNorm (ctx: EngineContext, x: Var, w: Var, eps: number): Var {
  const rms = sqrt(ctx, add(ctx, mean(ctx, mul(ctx, x, x), -1), scalar(eps)))
  return mul(ctx, mul(ctx, x, recip(ctx, rms)), w)
}

/** softmax over the last axis, shifted by the (constant) row max. */
export function softmax (ctx: EngineContext, x: Var): Var {
  const e = exp(ctx, sub(ctx, x, maxDetached(ctx, x, -1)))
  return div(ctx, e, sum(ctx, e, -1))
}

/** silu(x) = x / (1 + e^(−x)). */
export function silu (ctx: EngineContext, x: Var): Var {
  return div(ctx, x, add(ctx, scalar(1), exp(ctx, neg(ctx, x))))
}

/**
 * Mean cross-entropy of logits [N, V] against one-hot targets [N, V]:
 * mean(logsumexp(x) − Σ x·onehot).
 */
export function crossEntropy (ctx: EngineContext, logits: Var, onehot: Var): Var {
  const shifted = sub(ctx, logits, maxDetached(ctx, logits, -1))
  const lse = log(ctx, sum(ctx, exp(ctx, shifted), -1))
  const picked = sum(ctx, mul(ctx, shifted, onehot), -1)
  const perRow = sub(ctx, lse, picked) // [N, 1]
  return mean(ctx, reshape(perRow, [1, perRow.shape[0]]), -1)
}

/**
 * Grouped-query attention's keys or values: [B, KV, T, Dh] → [B, H, T, Dh], query head h
 * reading key/value head ⌊h / (H/KV)⌋ (llama.cpp's and transformers' grouping). The copy
 * is broadcast along a last axis and moved into place, so its gradient sums each group's
 * heads in order along that axis: a SUM fold of the step program.
 */
export function repeatHeads (ctx: EngineContext, x: Var, heads: number): Var {
  const [b, kv, t, dh] = x.shape
  if (kv === heads) return x
  const group = heads / kv
  const spread = expand(ctx, reshape(x, [b, kv, t, dh, 1]), [b, kv, t, dh, group])
  return reshape(permute(ctx, spread, [0, 1, 4, 2, 3]), [b, heads, t, dh])
}

/**
 * Causal multi-head attention. q, k, v: [B, T, D] → [B, T, D], with heads of size
 * D/H, RoPE on q and k, scores scaled by 1/√(D/H) and masked above the diagonal.
 */
export function attention (ctx: EngineContext, q: Var, k: Var, v: Var, heads: number, tables: { cos: Var, sin: Var, mask: Var }, kvHeads = heads): Var {
  const [b, t, d] = q.shape
  const dh = d / heads
  const split = (x: Var, n: number): Var => permute(ctx, reshape(x, [b, t, n, dh]), [0, 2, 1, 3]) // (B, n, T, Dh)
  const qh = rope(ctx, split(q, heads), tables.cos, tables.sin)
  const kh = repeatHeads(ctx, rope(ctx, split(k, kvHeads), tables.cos, tables.sin), heads)
  // softmax(q·kᵀ·scale + mask)·v as one op: the same bits as composing it (attention.ts).
  const out = attentionHeads(ctx, qh, kh, repeatHeads(ctx, split(v, kvHeads), heads), tables.mask, f(1 / sqrtf(dh))) // (B, H, T, Dh)
  return reshape(permute(ctx, out, [0, 2, 1, 3]), [b, t, d])
}
