import { add, constant, gather, matmul, mul, reshape, type Var } from '../core/autograd.ts'
import { attention, crossEntropy, rmsNorm, silu } from '../core/nn.ts'
import { cosf, expf, f, logf, PURPOSE, sinf, sqrtf, uniform } from '@commons/protocol'
import { allocF32, recordOp, type EngineContext } from '../core/context.ts'
import { Tensor, size } from '../core/tensor.ts'

export interface TransformerConfig {
  kind: 'transformer'
  vocab: number
  dModel: number
  layers: number
  heads: number
  /** Key/value heads (grouped-query attention): a divisor of `heads`; absent, one per head. */
  kvHeads?: number
  /** SwiGLU hidden size. */
  hidden: number
  context: number
  tiedEmbeddings: boolean
  normEps: number
  ropeTheta: number
}

export interface MlpConfig {
  kind: 'mlp'
  vocab: number
  /** Tokens of history the model sees (its window). */
  context: number
  dModel: number
  hidden: number
  layers: number
}

export type ModelConfig = TransformerConfig | MlpConfig

/** One trainable tensor: its name, shape and how it starts. */
export interface ParamSpec {
  name: string
  shape: number[]
  /** 'ones' for norm gains; otherwise uniform with this standard deviation. */
  init: 'ones' | { std: number }
  /** Whether AdamW's weight decay applies (matrices yes, gains no). */
  decay: boolean
}

/** Key/value heads of a transformer (grouped-query attention; one per head unless set). */
export function kvHeadsOf (config: TransformerConfig): number {
  return config.kvHeads ?? config.heads
}

/** The width of a layer's keys and values: key/value heads × head size. */
export function kvWidth (config: TransformerConfig): number {
  return kvHeadsOf(config) * (config.dModel / config.heads)
}

/** The parameters of a model, in program order: this order is the state order. */
export function paramSpecs (config: ModelConfig): ParamSpec[] {
  const std = 0.02
  if (config.kind === 'mlp') {
    const specs: ParamSpec[] = [{ name: 'embed', shape: [config.vocab, config.dModel], init: { std }, decay: false }]
    let width = config.context * config.dModel
    for (let l = 0; l < config.layers; l++) {
      specs.push({ name: `layers.${l}.w`, shape: [width, config.hidden], init: { std }, decay: true })
      width = config.hidden
    }
    specs.push({ name: 'head', shape: [width, config.vocab], init: { std }, decay: true })
    return specs
  }
  const { vocab, dModel: d, hidden, layers } = config
  const kv = kvWidth(config)
  const residual = { std: f(f(std) / sqrtf(2 * layers)) }
  const specs: ParamSpec[] = [{ name: 'embed', shape: [vocab, d], init: { std }, decay: false }]
  for (let l = 0; l < layers; l++) {
    specs.push(
      { name: `layers.${l}.attn_norm`, shape: [d], init: 'ones', decay: false },
      { name: `layers.${l}.wq`, shape: [d, d], init: { std }, decay: true },
      { name: `layers.${l}.wk`, shape: [d, kv], init: { std }, decay: true },
      { name: `layers.${l}.wv`, shape: [d, kv], init: { std }, decay: true },
      { name: `layers.${l}.wo`, shape: [d, d], init: residual, decay: true },
      { name: `layers.${l}.mlp_norm`, shape: [d], init: 'ones', decay: false },
      { name: `layers.${l}.w1`, shape: [d, hidden], init: { std }, decay: true },
      { name: `layers.${l}.w3`, shape: [d, hidden], init: { std }, decay: true },
      { name: `layers.${l}.w2`, shape: [hidden, d], init: residual, decay: true }
    )
  }
  specs.push({ name: 'final_norm', shape: [d], init: 'ones', decay: false })
  if (!config.tiedEmbeddings) specs.push({ name: 'head', shape: [d, vocab], init: { std }, decay: true })
  return specs
}

export function parameterCount (config: ModelConfig): number {
  return paramSpecs(config).reduce((n, p) => n + size(p.shape), 0)
}

/**
 * Initial parameters from the counter-based PRNG: element i of slot s is
 * (2u − 1)·a with u = uniform(seed, INIT_BASE + s, i) and a = √3·std (the uniform
 * distribution with that standard deviation), all in binary32.
 */
export function initParams (config: ModelConfig, seed: number): Tensor[] {
  return paramSpecs(config).map((spec, slot) => {
    const data = new Float32Array(size(spec.shape))
    if (spec.init === 'ones') data.fill(1)
    else {
      const a = f(f(sqrtf(3)) * f(spec.init.std))
      for (let i = 0; i < data.length; i++) data[i] = f(f(f(uniform(seed, PURPOSE.INIT_BASE + slot, i) * 2) - 1) * a)
    }
    return new Tensor(spec.shape, data)
  })
}

/** Constant tables of a transformer: RoPE angles and the causal mask (part of the program). */
export interface Tables {
  cos: Var
  sin: Var
  mask: Var
}

/** angle(pos, i) = pos · θ^(−2i/Dh), computed canonically as pos · exp(−(2i/Dh) · ln θ). */
export function makeTables (config: TransformerConfig, length = config.context): Tables {
  const dh = config.dModel / config.heads
  const half = dh / 2
  const cos = new Float32Array(length * half)
  const sin = new Float32Array(length * half)
  const lnTheta = logf(config.ropeTheta)
  for (let i = 0; i < half; i++) {
    const freq = expf(f(-f(f(f(2 * i) / dh) * lnTheta)))
    for (let pos = 0; pos < length; pos++) {
      const angle = f(pos * freq)
      cos[pos * half + i] = cosf(angle)
      sin[pos * half + i] = sinf(angle)
    }
  }
  const mask = new Float32Array(length * length)
  for (let i = 0; i < length; i++) for (let j = i + 1; j < length; j++) mask[i * length + j] = -Infinity
  return {
    cos: constant(new Tensor([length, half], cos)),
    sin: constant(new Tensor([length, half], sin)),
    mask: constant(new Tensor([length, length], mask))
  }
}

/** How a layer attends: q, k, v [B, T, D] → [B, T, D] (forward: the window; a Decoder: its cache). */
export type Attend = (layer: number, q: Var, k: Var, v: Var) => Var

/** Logits [B·T, V] for token ids [B, T]. */
export function forward (ctx: EngineContext, config: ModelConfig, params: Var[], tokens: Tensor, tables?: Tables): Var {
  const [b, t] = tokens.shape
  if (config.kind === 'mlp') {
    // tokens here are windows [B, context]; one prediction per window.
    let x = reshape(gather(ctx, params[0], constant(tokens)), [b, t * config.dModel])
    for (let l = 0; l < config.layers; l++) x = silu(ctx, matmul(ctx, x, params[1 + l]))
    return matmul(ctx, x, params[1 + config.layers])
  }
  if (tables === undefined) throw new Error('a transformer needs its tables')
  return transformerLogits(ctx, config, params, tokens, (_, q, k, v) => attention(ctx, q, k, v, config.heads, tables, kvHeadsOf(config)))
}

/** The transformer's logits [B·T, V], each layer attending through `attend`. */
export function transformerLogits (ctx: EngineContext, config: TransformerConfig, params: Var[], tokens: Tensor, attend: Attend): Var {
  const [b, t] = tokens.shape
  const d = config.dModel
  let x = reshape(gather(ctx, params[0], constant(tokens)), [b * t, d]) // (B·T, D)
  let p = 1
  for (let l = 0; l < config.layers; l++) {
    const [attnNorm, wq, wk, wv, wo, mlpNorm, w1, w3, w2] = params.slice(p, p + 9)
    p += 9
    const h = rmsNorm(ctx, x, attnNorm, config.normEps)
    const project = (w: Var): Var => reshape(matmul(ctx, h, w), [b, t, w.shape[1]])
    const o = attend(l, project(wq), project(wk), project(wv))
    x = add(ctx, x, matmul(ctx, reshape(o, [b * t, d]), wo))
    const m = rmsNorm(ctx, x, mlpNorm, config.normEps)
    x = add(ctx, x, matmul(ctx, mul(ctx, silu(ctx, matmul(ctx, m, w1)), matmul(ctx, m, w3)), w2))
  }
  x = rmsNorm(ctx, x, params[p], config.normEps)
  return config.tiedEmbeddings ? matmul(ctx, x, params[0], false, true) : matmul(ctx, x, params[p + 1])
}

/** One-hot rows for the targets, as a constant [N, V]. */
export function oneHot (ctx: EngineContext, targets: Int32Array, vocab: number): Tensor {
  const data = allocF32(ctx, targets.length * vocab)
  for (let i = 0; i < targets.length; i++) data[i * vocab + targets[i]] = 1
  return recordOp(ctx, { op: 'onehot', vocab }, [new Tensor([targets.length], targets)], [new Tensor([targets.length, vocab], data)])
}

/** Mean next-token cross-entropy of a batch. */
export function loss (ctx: EngineContext, config: ModelConfig, params: Var[], inputs: Tensor, targets: Tensor, tables?: Tables): Var {
  return crossEntropy(ctx, forward(ctx, config, params, inputs, tables), constant(oneHot(ctx, targets.i32, config.vocab)))
}

