import { binaryProgram, comesBefore, expf, f32Bits, f32FromBits, keptCount } from '@commons/protocol'

/**
 * The canonical seeded pick of a generated token (docs/inference.md, "Sampled answers"):
 * what `generate` samples with, and, step by step, the sampling ops that end the forward
 * program of a sampled answer (forwardProgram.ts), so that a sampled token is disputable
 * on-chain one element at a time. Each step below computes, row-wise, exactly the element
 * program of one op (packages/protocol/src/samplingElements.ts):
 *
 *   w = WEIGHT(x, argmax, t)       exp((x_i − x[argmax]) / t)
 *   r = RANK(x)                    likelihood order: greater first, ties to the lower id, NaN last
 *   s = SCAN(SCATTER(w, r))        running weights in likelihood order
 *   k = KEEP(s, r, w, topK, topP)  w_i if top-k and top-p keep token i, else +0
 *   c = SCAN(k)                    running kept weights in id order
 *   token = FINDFIRST(c, u, argmax) the first i with c_i > u × c_last, else the greedy token
 *
 * with u = uniform(seed, SAMPLE, index of the new token). The greedy token as the fallback
 * only matters when the kept weights have no positive finite total (a temperature ≤ 0, or
 * NaN logits): the pick is then greedy.
 */

/** The sampling parameters as a receipt signs them: top-k 0 and top-p bits 0 mean none. */
export interface SamplingWords {
  temperatureBits: number
  topK: number
  topPBits: number
}

/** The words of a request's parameters (temperature 1 when not given), as the receipt encodes them. */
export function samplingWords (options: { temperature?: number, topK?: number, topP?: number }): SamplingWords {
  return { temperatureBits: f32Bits(options.temperature ?? 1), topK: (options.topK ?? 0) >>> 0, topPBits: f32Bits(options.topP ?? 0) }
}

/** The greedy pick: the first index of the largest logit (a NaN never wins; the ARGMAX op of the forward program). */
export function argmax (x: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i
  return best
}

/** WEIGHT: exp((x_i − x[best]) / t) in binary32 (NaN for a best outside the row). */
export function weights (x: Float32Array, best: number, temperatureBits: number): Float32Array {
  const t = f32FromBits(temperatureBits)
  const max = best >= 0 && best < x.length ? x[best] : NaN
  return x.map(v => expf(binaryProgram.div(binaryProgram.sub(v, max), t)))
}

/** RANK: how many tokens come before each in likelihood order (a sort by the same total order). */
export function ranks (x: Float32Array): Int32Array {
  const order = Array.from(x.keys()).sort((i, j) => comesBefore(x[i], i, x[j], j) ? -1 : 1)
  const rank = new Int32Array(x.length)
  order.forEach((i, q) => { rank[i] = q })
  return rank
}

/** SCATTER of w by rank: w in likelihood order (acc from +0 over the tokens of each rank). */
export function inRankOrder (w: Float32Array, rank: Int32Array): Float32Array {
  const out = new Float32Array(w.length)
  rank.forEach((q, i) => { if (q >= 0 && q < out.length) out[q] = binaryProgram.add(out[q], w[i]) })
  return out
}

/** SCAN: running sums from +0 in index order. */
export function scan (a: Float32Array): Float32Array {
  const out = new Float32Array(a.length)
  let acc = 0
  a.forEach((v, i) => { acc = binaryProgram.add(acc, v); out[i] = acc })
  return out
}

/** KEEP: the weights of the tokens top-k and top-p leave, +0 for the others. */
export function keep (running: Float32Array, rank: Int32Array, w: Float32Array, words: SamplingWords): Float32Array {
  const cut = keptCount(q => running[q], w.length, words.topK, words.topPBits)
  return w.map((v, i) => rank[i] < cut ? v : 0)
}

/** FINDFIRST: the first index whose running kept weight exceeds u × their total, else the fallback. */
export function findFirst (running: Float32Array, u: number, fallback: number): number {
  const target = binaryProgram.mul(u, running[running.length - 1])
  const i = running.findIndex(v => v > target)
  return i < 0 ? fallback : i
}

/** The token sampled from one row of logits with uniform u: the sampling ops composed. */
export function sampleToken (x: Float32Array, words: SamplingWords, u: number): number {
  const best = argmax(x)
  const w = weights(x, best, words.temperatureBits)
  let kept = w
  if (words.topK !== 0 || words.topPBits !== 0) {
    const rank = ranks(x)
    kept = keep(scan(inRankOrder(w, rank)), rank, w, words)
  }
  return findFirst(scan(kept), u, best)
}
