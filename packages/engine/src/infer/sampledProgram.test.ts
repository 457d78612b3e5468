import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { evaluateFrom, OPCODE, wordOf } from '@commons/protocol'
import { referenceContext } from '../core/context.ts'
import { Tensor } from '../core/tensor.ts'
import { generate, type GenerateOptions } from '../model/generate.ts'
import { initParams, paramSpecs, type TransformerConfig } from '../model/model.ts'
import { readRecipe, type Recipe } from '../model/recipe.ts'
import { writeSafetensors } from '../model/safetensors.ts'
import { compileForwardProgram, forwardInputs, traceForward, type ForwardTrace } from './forwardProgram.ts'
import { samplingWords } from './sample.ts'

const repo = fileURLToPath(new URL('../../../../', import.meta.url))
const tiny = await readRecipe(join(repo, 'recipes/tiny.json'))
const ctx = referenceContext()
const recipe: Recipe = { ...tiny, model: { ...tiny.model as TransformerConfig, layers: 1, heads: 4, kvHeads: 2 } }
// Weights larger than the init's so the logits spread and top-k / top-p cut somewhere.
const weights = initParams(recipe.model, 5).map(t => new Tensor(t.shape, t.f32.map(x => x * 40)))
const prompt = 'A sampled answer '

/**
 * Sampling settings (these logits span hundreds, so warm means a temperature of tens):
 * plain, top-k, top-p, both, a cold one, and 0 (no finite weights: the greedy fallback).
 */
const SETTINGS: Array<Pick<GenerateOptions, 'temperature' | 'topK' | 'topP'>> = [
  { temperature: 30 }, { temperature: 60, topK: 5 }, { temperature: 40, topP: 0.9 }, { temperature: 100, topK: 40, topP: 0.8 }, { temperature: 0.8 }, { temperature: 0 }
]

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'commons-sampled-'))
  await writeSafetensors(join(dir, 'model.safetensors'), weights.map((t, i) => [paramSpecs(recipe.model)[i].name, t]), { recipe: JSON.stringify(recipe) })
})
after(async () => { await rm(dir, { recursive: true, force: true }) })

/** Every element of every op from `from` on, evaluated by its element program, against the traced output. */
function checkElements (trace: ForwardTrace, from = 0): number {
  let checked = 0
  trace.program.ops.forEach((op, i) => {
    if (i < from) return
    const inputs = forwardInputs(op, trace, weights, trace.tokens)
    const out = trace.outputs[i]
    assert.deepEqual(op.dims, [...out.shape], `op ${i} shape`)
    for (let e = 0; e < out.size; e++) {
      const want = wordOf(out.data[e], op.dtype)
      const have = wordOf(evaluateFrom(op, e, trace.context, inputs), op.dtype)
      if (have !== want) assert.fail(`op ${i} (code ${op.code}) element ${e}: program gives ${have.toString(16)}, engine ${want.toString(16)}`)
      checked++
    }
  })
  return checked
}

describe('sampled forward program', () => {
  it('every element of every op, the sampling ops included, follows its element program', () => {
    const window = [...Buffer.from(prompt)]
    const greedyOps = compileForwardProgram(ctx, recipe, window.length).ops.length
    for (const [s, options] of SETTINGS.entries()) {
      const trace = traceForward(ctx, recipe, weights, window, { sampling: { seed: 11 + s, index: s, words: samplingWords(options) } })
      const checked = checkElements(trace, s === 0 ? 0 : greedyOps - 1)
      assert.ok(checked > (s === 0 ? 50_000 : 5 * recipe.model.vocab), `${checked} elements checked`)
      const codes = trace.program.ops.slice(greedyOps).map(op => op.code)
      assert.deepEqual(codes, [OPCODE.WEIGHT, OPCODE.RANK, OPCODE.SCATTER, OPCODE.SCAN, OPCODE.KEEP, OPCODE.SCAN, OPCODE.UNIFORM_AT, OPCODE.FINDFIRST])
      assert.equal(trace.outputs.at(-1)!.i32[0], trace.token)
    }
  })

  it('picks the token engine.generate samples, at every position, under every setting', async () => {
    let differsFromGreedy = 0
    const greedy = await generate(ctx, dir, prompt, { tokens: 10 })
    for (const [s, options] of SETTINGS.entries()) {
      const seed = 1000 + s
      const sampled = await generate(ctx, dir, prompt, { tokens: 10, seed, ...options })
      const ids = [...Buffer.from(prompt)]
      assert.ok(ids.length + sampled.tokens.length <= recipe.model.context)
      for (const [i, token] of sampled.tokens.entries()) {
        assert.equal(traceForward(ctx, recipe, weights, ids, { sampling: { seed, index: i, words: samplingWords(options) } }).token, token, `setting ${s} token ${i}`)
        ids.push(token)
      }
      if (sampled.tokens.some((t, i) => t !== greedy.tokens[i])) differsFromGreedy++
    }
    assert.ok(differsFromGreedy >= 3, `sampling departs from greedy under ${differsFromGreedy} settings`)
  })

  it('has one sampled program per window length, whatever the seed and parameters, beside the greedy one', () => {
    const window = [1, 2, 3, 4, 5]
    const a = compileForwardProgram(ctx, recipe, 5, true)
    const b = traceForward(ctx, recipe, weights, window, { sampling: { seed: 3, index: 9, words: samplingWords({ temperature: 0.5, topK: 3, topP: 0.7 }) } }).program
    assert.equal(a.hash, b.hash)
    const greedy = compileForwardProgram(ctx, recipe, 5)
    assert.notEqual(a.hash, greedy.hash)
    assert.deepEqual(a.ops.slice(0, greedy.ops.length), greedy.ops, 'the sampled program begins with the greedy one')
  })

  it('carries a fault into the pick, and another seed picks otherwise', () => {
    const window = [...Buffer.from(prompt)]
    const words = samplingWords({ temperature: 100 })
    const honest = traceForward(ctx, recipe, weights, window, { sampling: { seed: 5, index: 0, words } })
    const lie = traceForward(ctx, recipe, weights, window, { sampling: { seed: 5, index: 0, words }, fault: { op: honest.program.ops.length - 1, element: 0 } })
    assert.notEqual(lie.token, honest.token)
    const seeds = new Set(Array.from({ length: 8 }, (_, seed) => traceForward(ctx, recipe, weights, window, { sampling: { seed, index: 0, words } }).token))
    assert.ok(seeds.size > 1, 'the seed changes the pick')
  })
})
