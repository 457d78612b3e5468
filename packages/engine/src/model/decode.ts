import { attentionHeads, constant, permute, reshape, rope, type Var } from '../core/autograd.ts'
import { kvHeadsOf, makeTables, transformerLogits, type TransformerConfig } from './model.ts'
import { repeatHeads } from '../core/nn.ts'
import { binaryProgram, expf, f, sqrtf } from '@commons/protocol'
import { Tensor } from '../core/tensor.ts'
import { startStep, type EngineContext } from '../core/context.ts'

/**
 * Incremental decoding with a key/value cache: feeding tokens one at a time costs one
 * position per token, not the whole window, and gives the bits `forward` gives for the
 * same window. Each layer's rotated keys and values are kept per head; a new query row
 * attends to the cached keys 0..p with exactly the composition of attention.ts (dot from
 * +0, scale, + mask 0, max, exp, sum, divide, weighted sum in key order). The full window
 * also sums the masked keys after p, as zeros, which leaves every sum as it was.
 */
export class Decoder {
  private readonly keys: Float32Array[]
  private readonly values: Float32Array[]
  private readonly tables: ReturnType<typeof makeTables>
  private readonly dh: number
  private readonly scale: number
  private readonly ctx: EngineContext
  private readonly config: TransformerConfig
  private readonly params: Var[]
  /** Tokens fed so far: the position of the next one. */
  position = 0

  constructor (ctx: EngineContext, config: TransformerConfig, params: Var[]) {
    this.ctx = ctx
    this.config = config
    this.params = params
    this.dh = config.dModel / config.heads
    this.scale = f(1 / sqrtf(this.dh))
    this.tables = makeTables(config, config.context)
    // One cache row per key/value head (grouped-query attention shares each among its group).
    const width = kvHeadsOf(config) * config.context * this.dh
    this.keys = Array.from({ length: config.layers }, () => new Float32Array(width))
    this.values = Array.from({ length: config.layers }, () => new Float32Array(width))
  }

  /** Feeds tokens at the next positions; returns the logits after the last one. */
  feed (ids: readonly number[]): Float32Array {
    const n = ids.length
    const start = this.position
    if (n === 0 || start + n > this.config.context) throw new RangeError(`${n} tokens at position ${start} do not fit a context of ${this.config.context}`)
    startStep(this.ctx)
    // The RoPE rows of these positions, the same for every layer.
    const half = this.dh / 2
    const rows = (t: Var): Var => constant(new Tensor([n, half], t.value.f32.slice(start * half, (start + n) * half)))
    const angles = { cos: rows(this.tables.cos), sin: rows(this.tables.sin) }
    const logits = transformerLogits(this.ctx, this.config, this.params, new Tensor([1, n], Int32Array.from(ids)), (layer, q, k, v) => this.attend(layer, q, k, v, start, angles)).value.f32
    this.position += n
    return logits.slice(logits.length - this.config.vocab)
  }

  private attend (layer: number, q: Var, k: Var, v: Var, start: number, { cos, sin }: { cos: Var, sin: Var }): Var {
    const { ctx, config, dh } = this
    const [, n, d] = q.shape
    const heads = config.heads
    const kvHeads = kvHeadsOf(config)
    const group = heads / kvHeads
    const split = (x: Var, count: number): Var => permute(ctx, reshape(x, [1, n, count, dh]), [0, 2, 1, 3]) // (1, count, n, Dh)
    const qVar = rope(ctx, split(q, heads), cos, sin)
    const kVar = rope(ctx, split(k, kvHeads), cos, sin)
    const vVar = split(v, kvHeads)
    const qh = qVar.value.f32
    const kh = kVar.value.f32
    const vh = vVar.value.f32
    const K = this.keys[layer]
    const V = this.values[layer]
    const stride = config.context * dh
    for (let h = 0; h < kvHeads; h++) {
      K.set(kh.subarray(h * n * dh, (h + 1) * n * dh), h * stride + start * dh)
      V.set(vh.subarray(h * n * dh, (h + 1) * n * dh), h * stride + start * dh)
    }
    if (start === 0) {
      // A prompt from position 0 is the window itself: the fused attention op (and its fast kernels).
      const mask = constant(new Tensor([n, n], causalMask(n)))
      return reshape(permute(ctx, attentionHeads(ctx, qVar, repeatHeads(ctx, kVar, heads), repeatHeads(ctx, vVar, heads), mask, this.scale), [0, 2, 1, 3]), [1, n, d])
    }
    const out = new Float32Array(heads * n * dh)
    const e = new Float32Array(start + n)
    const acc = new Float32Array(dh)
    const scale = this.scale
    for (let h = 0; h < heads; h++) {
      const base = Math.floor(h / group) * stride
      for (let i = 0; i < n; i++) {
        const keys = start + i + 1
        const qi = (h * n + i) * dh
        let max = -Infinity
        for (let j = 0; j < keys; j++) {
          const kj = base + j * dh
          let dot = 0
          for (let c = 0; c < dh; c++) dot = f(dot + f(qh[qi + c] * K[kj + c]))
          const score = f(f(dot * scale) + 0)
          e[j] = score
          max = binaryProgram.max(max, score)
        }
        let sum = 0
        for (let j = 0; j < keys; j++) {
          e[j] = expf(f(e[j] - max))
          sum = f(sum + e[j])
        }
        // Σ_j p_j·v_j per output dimension, j increasing; j outermost reads V in order
        // (each dimension's sum keeps its own order; a Float32Array store rounds like f).
        acc.fill(0)
        for (let j = 0; j < keys; j++) {
          const p = f(e[j] / sum)
          const vj = base + j * dh
          for (let c = 0; c < dh; c++) acc[c] = acc[c] + f(p * V[vj + c])
        }
        out.set(acc, qi)
      }
    }
    return reshape(permute(ctx, constant(new Tensor([1, heads, n, dh], out)), [0, 2, 1, 3]), [1, n, d])
  }
}

function causalMask (n: number): Float32Array {
  const mask = new Float32Array(n * n)
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) mask[i * n + j] = -Infinity
  return mask
}
