import { chunkedSum } from '../core/ops.ts'
import { cosf, f, sqrtf } from '@commons/protocol'

export interface OptimizerConfig {
  lr: number
  minLr: number
  warmupSteps: number
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
  /** Global gradient-norm clip; 0 turns clipping off. */
  gradClip: number
}

const PI = f(Math.PI)

/** b^n by square-and-multiply in binary32: a fixed sequence for each n. */
export function powInt (b: number, n: number): number {
  let result = 1
  let base = f(b)
  while (n > 0) {
    if ((n & 1) === 1) result = f(result * base)
    base = f(base * base)
    n = Math.floor(n / 2)
  }
  return result
}

/**
 * Learning rate at step t (0-based) of `steps`: linear warmup to lr over warmupSteps,
 * then cosine decay to minLr at the last step.
 */
export function learningRate (o: OptimizerConfig, t: number, steps: number): number {
  const lr = f(o.lr)
  if (t < o.warmupSteps) return f(f(lr * f(t + 1)) / f(o.warmupSteps))
  const span = Math.max(1, steps - o.warmupSteps)
  const progress = f(f(t - o.warmupSteps) / f(span))
  const cosine = f(f(1 + cosf(f(PI * progress))) * 0.5)
  return f(f(o.minLr) + f(f(lr - f(o.minLr)) * cosine))
}

/**
 * The factor every gradient is multiplied by: min(1, clip / (‖g‖ + 1e-6)), with ‖g‖
 * the square root of the chunked sum (ops.chunkedSum) of every slot's squared
 * elements, slot sums in slot order.
 */
export function clipScale (o: OptimizerConfig, grads: Float32Array[]): { norm: number, scale: number } {
  const perSlot = new Float32Array(grads.length)
  grads.forEach((g, s) => {
    const squares = new Float32Array(g.length)
    for (let i = 0; i < g.length; i++) squares[i] = f(g[i] * g[i])
    perSlot[s] = chunkedSum(squares)
  })
  const norm = sqrtf(chunkedSum(perSlot))
  if (o.gradClip <= 0) return { norm, scale: 1 }
  const scale = f(f(o.gradClip) / f(norm + f(1e-6)))
  return { norm, scale: scale < 1 ? scale : 1 }
}

/** Scalars of one AdamW step, shared by every element. */
export interface AdamStep {
  lr: number
  scale: number
  /** 1 − β1^(t+1) and 1 − β2^(t+1). */
  c1: number
  c2: number
}

export function adamStep (o: OptimizerConfig, t: number, steps: number, scale: number): AdamStep {
  return {
    lr: learningRate(o, t, steps),
    scale,
    c1: f(1 - powInt(o.beta1, t + 1)),
    c2: f(1 - powInt(o.beta2, t + 1))
  }
}

/**
 * One AdamW update of a slot, in place. Per element, in this order:
 *   g  = grad · scale
 *   m' = β1·m + (1−β1)·g
 *   v' = β2·v + (1−β2)·g·g
 *   u  = (m'/c1) / (sqrt(v'/c2) + eps) + wd·p     (wd only for decayed slots)
 *   p' = p − lr·u
 */
export function adamUpdate (o: OptimizerConfig, s: AdamStep, decay: boolean, p: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array): void {
  const b1 = f(o.beta1)
  const b2 = f(o.beta2)
  const a1 = f(1 - b1)
  const a2 = f(1 - b2)
  const eps = f(o.eps)
  const wd = decay ? f(o.weightDecay) : 0
  for (let i = 0; i < p.length; i++) {
    const g = f(grad[i] * s.scale)
    const mi = f(f(b1 * m[i]) + f(a1 * g))
    const vi = f(f(b2 * v[i]) + f(f(a2 * g) * g))
    let u = f(f(mi / s.c1) / f(sqrtf(f(vi / s.c2)) + eps))
    if (decay) u = f(u + f(wd * p[i]))
    p[i] = f(p[i] - f(s.lr * u))
    m[i] = mi
    v[i] = vi
  }
}
