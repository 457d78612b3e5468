import { f, expf } from '@commons/protocol'
import { MAX_INPUTS, binaryProgram } from '@commons/protocol'
import { Tensor, ShapeError } from './tensor.ts'
import { allocF32, allocOut, recordOp, type AttentionGrads, type AttentionSaved, type EngineContext } from './context.ts'

/**
 * Causal attention core over heads: q, k, v [..., T, Dh], mask [T, T], scale a binary32.
 * Per row i, the program is exactly the composition
 *   s_j = (q_i · k_j) · scale + mask_ij      (dot from +0, d increasing)
 *   m = max_j s_j,  e_j = exp(s_j − m),  z = Σ_j e_j,  p_j = e_j / z
 *   out_i = Σ_j p_j · v_j                     (j increasing over all T, masked ones too)
 * so it gives the same bits as matmul, mul, add, max, sub, exp, sum, div and matmul.
 */
export function attention (ctx: EngineContext, q: Tensor, k: Tensor, v: Tensor, mask: Tensor, scale: number): { out: Tensor, saved: AttentionSaved } {
  const result = ctx.kernels.attention?.(q, k, v, mask, scale) ?? referenceAttention(ctx, q, k, v, mask, scale)
  const { out, saved } = result
  recordOp(ctx, { op: 'attention', scale }, [q, k, v, mask], [out, saved.p, saved.e, saved.z])
  return result
}

export function referenceAttention (ctx: EngineContext, q: Tensor, k: Tensor, v: Tensor, mask: Tensor, scaleIn: number): { out: Tensor, saved: AttentionSaved } {
  const scale = f(scaleIn)
  const t = q.shape[q.shape.length - 2]
  const dh = q.shape[q.shape.length - 1]
  const heads = q.size / (t * dh)
  if (2 * dh > MAX_INPUTS || 2 * t > MAX_INPUTS) throw new ShapeError(`attention over ${t} positions of ${dh} reads more than ${MAX_INPUTS} inputs`)
  const Q = q.f32
  const K = k.f32
  const V = v.f32
  const M = mask.f32
  const out = allocOut(ctx, q.size)
  const p = allocF32(ctx, heads * t * t)
  const e = allocF32(ctx, heads * t * t)
  const z = allocF32(ctx, heads * t)
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
export function attentionBackward (ctx: EngineContext, g: Tensor, q: Tensor, k: Tensor, v: Tensor, saved: AttentionSaved, scale: number): AttentionGrads {
  const grads = ctx.kernels.attentionBackward?.(g, q, k, v, saved, scale) ?? referenceAttentionBackward(ctx, g, q, k, v, saved, scale)
  recordOp(ctx, { op: 'attentionBackward', scale }, [g, q, k, v, saved.p, saved.e, saved.z], [grads.dq, grads.dk, grads.dv])
  return grads
}

export function referenceAttentionBackward (ctx: EngineContext, g: Tensor, q: Tensor, k: Tensor, v: Tensor, saved: AttentionSaved, scaleIn: number): AttentionGrads {
  const scale = f(scaleIn)
  const t = q.shape[q.shape.length - 2]
  const dh = q.shape[q.shape.length - 1]
  const heads = q.size / (t * dh)
  const [G, Q, K, V, P, E, Z] = [g.f32, q.f32, k.f32, v.f32, saved.p.f32, saved.e.f32, saved.z.f32]
  const dq = allocF32(ctx, q.size)
  const dk = allocF32(ctx, k.size)
  const dv = allocF32(ctx, v.size)
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
