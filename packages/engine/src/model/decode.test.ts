import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { constant } from '../core/autograd.ts'
import { referenceContext } from '../core/context.ts'
import { Decoder } from './decode.ts'
import { generate } from './generate.ts'
import { forward, initParams, makeTables, paramSpecs, type TransformerConfig } from './model.ts'
import type { Recipe } from './recipe.ts'
import { writeSafetensors } from './safetensors.ts'
import { Tensor } from '../core/tensor.ts'

const config: TransformerConfig = { kind: 'transformer', vocab: 256, dModel: 32, layers: 2, heads: 4, hidden: 48, context: 40, tiedEmbeddings: false, normEps: 1e-5, ropeTheta: 10000 }
const ctx = referenceContext()
// Larger than the init's 0.02 so attention is far from uniform.
const weights = initParams(config, 3).map(t => new Tensor(t.shape, t.f32.map(x => x * 40)))
const params = weights.map(constant)
const bits = (x: Float32Array): Uint32Array => new Uint32Array(x.buffer, x.byteOffset, x.length)

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'commons-decode-'))
  const recipe: Recipe = {
    name: 'decode', model: config, tokenizer: 'byte', batchSize: 1, steps: 1, seed: 1, checkpointInterval: 1,
    optimizer: { lr: 0.001, minLr: 0.0001, warmupSteps: 0, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 }
  }
  await writeSafetensors(join(dir, 'model.safetensors'), weights.map((t, i) => [paramSpecs(config)[i].name, t]), { recipe: JSON.stringify(recipe) })
})
after(async () => { await rm(dir, { recursive: true, force: true }) })

describe('decoding with a key/value cache', () => {
  // Grouped-query attention: four query heads on two cached key/value heads.
  const gqa: TransformerConfig = { ...config, kvHeads: 2 }
  for (const [name, model, modelParams] of [
    ['multi-head', config, params],
    ['grouped-query', gqa, initParams(gqa, 3).map(t => constant(new Tensor(t.shape, t.f32.map(x => x * 40))))]
  ] as const) it(`gives, at every position, the bits of a forward pass over the whole window (${name})`, () => {
    const ids = [...Buffer.from('the cache must not change one bit of any logit')].slice(0, model.context)
    const decoder = new Decoder(ctx, model, modelParams)
    // A prompt of 7 in one feed, then one token at a time.
    const fed = [decoder.feed(ids.slice(0, 7)), ...ids.slice(7).map(id => decoder.feed([id]))]
    for (const [k, logits] of fed.entries()) {
      const t = k + 7
      const full = forward(ctx, model, modelParams, new Tensor([1, t], Int32Array.from(ids.slice(0, t))), makeTables(model, t)).value.f32
      assert.deepEqual(bits(logits), bits(full.slice(full.length - model.vocab)), `position ${t - 1}`)
    }
    assert.throws(() => decoder.feed([1]), RangeError, 'the context is full')
  })

  it('generates the recompute tokens, greedy and sampled, past the context too; top-k 1 and a tiny top-p are greedy', async () => {
    const greedy = await generate(ctx, dir, 'The ', { tokens: 60 })
    assert.deepEqual(greedy.tokens, (await generate(ctx, dir, 'The ', { tokens: 60, recompute: true })).tokens)
    const sampled = await generate(ctx, dir, 'The ', { tokens: 60, seed: 4, temperature: 1.2 })
    assert.deepEqual(sampled.tokens, (await generate(ctx, dir, 'The ', { tokens: 60, seed: 4, temperature: 1.2, recompute: true })).tokens)
    assert.notDeepEqual(sampled.tokens, greedy.tokens)
    assert.deepEqual((await generate(ctx, dir, 'The ', { tokens: 30, seed: 4, topK: 1 })).tokens, greedy.tokens.slice(0, 30))
    assert.deepEqual((await generate(ctx, dir, 'The ', { tokens: 30, seed: 4, topP: 1e-6 })).tokens, greedy.tokens.slice(0, 30))
    const topK = await generate(ctx, dir, 'The ', { tokens: 30, seed: 4, topK: 5, temperature: 2 })
    assert.deepEqual(topK.tokens, (await generate(ctx, dir, 'The ', { tokens: 30, seed: 4, topK: 5, temperature: 2, recompute: true })).tokens)
    const streamed: number[] = []
    await generate(ctx, dir, 'The ', { tokens: 10, onToken: t => streamed.push(t) })
    assert.deepEqual(streamed, greedy.tokens.slice(0, 10))
    assert.ok(greedy.tokensPerSecond > 0)
  })
})
