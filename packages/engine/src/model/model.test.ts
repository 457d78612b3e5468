import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { backward, param } from '../core/autograd.ts'
import { initParams, loss, makeTables, paramSpecs, parameterCount, type TransformerConfig } from './model.ts'
import { Tensor } from '../core/tensor.ts'
import { referenceContext } from '../core/context.ts'

const plain: TransformerConfig = { kind: 'transformer', vocab: 256, dModel: 8, layers: 2, heads: 2, hidden: 12, context: 6, tiedEmbeddings: false, normEps: 1e-5, ropeTheta: 10000 }
const B = 2
const T = 6

/**
 * The same transformer written independently in float64 with Math.*: plain nested
 * arrays, no shared code with the engine. Returns the mean cross-entropy.
 */
function referenceLoss (params: Float64Array[], inputs: number[][], targets: number[][], cfg: TransformerConfig): number {
  const d = cfg.dModel
  const dh = d / cfg.heads
  const half = dh / 2
  const get = (w: Float64Array, cols: number) => (r: number, c: number): number => w[r * cols + c]
  const linear = (x: number[][], w: Float64Array, cols: number): number[][] => x.map(row => {
    const at = get(w, cols)
    return Array.from({ length: cols }, (_, j) => row.reduce((s, v, k) => s + v * at(k, j), 0))
  })
  const norm = (x: number[][], w: Float64Array): number[][] => x.map(row => {
    const rms = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / row.length + cfg.normEps)
    return row.map((v, i) => v / rms * w[i])
  })
  const rope = (v: number[], pos: number): number[] => v.map((x, j) => {
    const i = j % half
    const angle = pos * Math.pow(cfg.ropeTheta, -2 * i / dh)
    return j < half ? x * Math.cos(angle) - v[j + half] * Math.sin(angle) : x * Math.cos(angle) + v[j - half] * Math.sin(angle)
  })
  let total = 0
  for (let b = 0; b < inputs.length; b++) {
    let x = inputs[b].map(tok => Array.from(params[0].subarray(tok * d, tok * d + d)))
    let p = 1
    for (let l = 0; l < cfg.layers; l++) {
      const [an, wq, wk, wv, wo, mn, w1, w3, w2] = params.slice(p, p + 9)
      p += 9
      const h = norm(x, an)
      const q = linear(h, wq, d)
      const kvWidth = (cfg.kvHeads ?? cfg.heads) * dh
      const k = linear(h, wk, kvWidth)
      const v = linear(h, wv, kvWidth)
      // Grouped-query attention: query head `head` reads key/value head ⌊head / group⌋.
      const group = cfg.heads / (cfg.kvHeads ?? cfg.heads)
      const out = x.map(() => new Array<number>(d).fill(0))
      for (let head = 0; head < cfg.heads; head++) {
        const slice = (m: number[][], t: number, at = head): number[] => m[t].slice(at * dh, at * dh + dh)
        const kvHead = Math.floor(head / group)
        for (let t = 0; t < x.length; t++) {
          const qt = rope(slice(q, t), t)
          const scores = Array.from({ length: t + 1 }, (_, s) => rope(slice(k, s, kvHead), s).reduce((acc, kv, i) => acc + kv * qt[i], 0) / Math.sqrt(dh))
          const max = Math.max(...scores)
          const e = scores.map(s => Math.exp(s - max))
          const z = e.reduce((a, c) => a + c, 0)
          for (let s = 0; s <= t; s++) slice(v, s, kvHead).forEach((vv, i) => { out[t][head * dh + i] += e[s] / z * vv })
        }
      }
      x = x.map((row, t) => row.map((val, i) => val + linear([out[t]], wo, d)[0][i]))
      const m = norm(x, mn)
      const a = linear(m, w1, cfg.hidden)
      const c = linear(m, w3, cfg.hidden)
      const act = a.map((row, t) => row.map((val, i) => val / (1 + Math.exp(-val)) * c[t][i]))
      const down = linear(act, w2, d)
      x = x.map((row, t) => row.map((val, i) => val + down[t][i]))
    }
    const logits = linear(norm(x, params[p]), params[p + 1], cfg.vocab)
    logits.forEach((row, t) => {
      const max = Math.max(...row)
      const lse = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max
      total += lse - row[targets[b][t]]
    })
  }
  return total / (inputs.length * inputs[0].length)
}

/** Grouped-query attention: four query heads share two key/value heads. */
const gqa: TransformerConfig = { ...plain, dModel: 16, heads: 4, kvHeads: 2 }

for (const [name, config] of [['multi-head', plain], ['grouped-query', gqa]] as const) describe(`${name} transformer against an independent float64 computation`, () => {
  const params = initParams(config, 5)
  // Larger than the default init, so the layers do visible work.
  for (const t of params) for (let i = 0; i < t.size; i++) if (t.shape.length === 2) t.f32[i] *= 20
  const inputs = [[72, 101, 108, 108, 111, 32], [119, 111, 114, 108, 100, 33]]
  const targets = inputs.map(row => [...row.slice(1), 10])
  const asTensor = (rows: number[][]): Tensor => new Tensor([B, T], Int32Array.from(rows.flat()))
  const tables = makeTables(config)
  const ctx = referenceContext()

  it('has the parameter count of its shapes', () => {
    assert.equal(parameterCount(config), params.reduce((n, t) => n + t.size, 0))
  })

  it('computes the same loss', () => {
    const ours = loss(ctx, config, params.map(param), asTensor(inputs), new Tensor([B * T], Int32Array.from(targets.flat())), tables).value.f32[0]
    const theirs = referenceLoss(params.map(t => Float64Array.from(t.f32)), inputs, targets, config)
    assert.ok(Math.abs(ours - theirs) / theirs < 1e-4, `binary32 ${ours} vs float64 ${theirs}`)
    assert.ok(theirs > 4, 'a real loss, not a degenerate one')
  })

  it('computes the same gradients as float64 finite differences', () => {
    const vars = params.map(param)
    backward(ctx, loss(ctx, config, vars, asTensor(inputs), new Tensor([B * T], Int32Array.from(targets.flat())), tables))
    const f64 = params.map(t => Float64Array.from(t.f32))
    const specs = paramSpecs(config)
    let checked = 0
    for (let slot = 0; slot < specs.length; slot++) {
      const grad = vars[slot].grad?.f32
      assert.ok(grad !== undefined, `${specs[slot].name} has a gradient`)
      for (const i of [0, Math.floor(f64[slot].length / 2), f64[slot].length - 1]) {
        if (slot === 0 && ![...inputs.flat()].includes(Math.floor(i / config.dModel))) continue // unused embedding rows
        const h = 1e-5
        const keep = f64[slot][i]
        f64[slot][i] = keep + h
        const up = referenceLoss(f64, inputs, targets, config)
        f64[slot][i] = keep - h
        const down = referenceLoss(f64, inputs, targets, config)
        f64[slot][i] = keep
        const numeric = (up - down) / (2 * h)
        assert.ok(Math.abs(grad[i] - numeric) <= 1e-3 * Math.max(1, Math.abs(numeric)) + 1e-5, `${specs[slot].name}[${i}]: ${grad[i]} vs ${numeric}`)
        checked++
      }
    }
    assert.ok(checked > 40)
  })
})
