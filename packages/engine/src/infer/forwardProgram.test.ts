import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { evaluateFrom, OPCODE, wordOf } from '@commons/protocol'
import { referenceContext } from '../core/context.ts'
import { Tensor } from '../core/tensor.ts'
import { generate } from '../model/generate.ts'
import { initParams, paramSpecs, type TransformerConfig } from '../model/model.ts'
import { readRecipe, type Recipe } from '../model/recipe.ts'
import { writeSafetensors } from '../model/safetensors.ts'
import { compileForwardProgram, forwardInputs, traceForward } from './forwardProgram.ts'

const repo = fileURLToPath(new URL('../../../../', import.meta.url))
const tiny = await readRecipe(join(repo, 'recipes/tiny.json'))
const ctx = referenceContext()
// Grouped-query attention, so the forward's head repeat is lowered too; weights larger
// than the init's 0.02 so attention is far from uniform and the logits spread.
const recipe: Recipe = { ...tiny, model: { ...tiny.model as TransformerConfig, layers: 1, heads: 4, kvHeads: 2 } }
const weights = initParams(recipe.model, 5).map(t => new Tensor(t.shape, t.f32.map(x => x * 40)))
const prompt = 'The forward of a window '

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'commons-forward-'))
  await writeSafetensors(join(dir, 'model.safetensors'), weights.map((t, i) => [paramSpecs(recipe.model)[i].name, t]), { recipe: JSON.stringify(recipe) })
})
after(async () => { await rm(dir, { recursive: true, force: true }) })

describe('forward program', () => {
  it('is the engine\'s forward: every element of every op of a traced window follows its element program', () => {
    const window = [...Buffer.from(prompt)]
    const trace = traceForward(ctx, recipe, weights, window)
    const tokens = new Tensor([window.length], Int32Array.from(window))
    const elementCtx = { seed: 0, step: 0 }
    let checked = 0
    trace.program.ops.forEach((op, i) => {
      const inputs = forwardInputs(op, trace, weights, tokens)
      const out = trace.outputs[i]
      assert.deepEqual(op.dims, [...out.shape], `op ${i} shape`)
      for (let e = 0; e < out.size; e++) {
        const want = wordOf(out.data[e], op.dtype)
        const have = wordOf(evaluateFrom(op, e, elementCtx, inputs), op.dtype)
        if (have !== want) assert.fail(`op ${i} (code ${op.code}) element ${e}: program gives ${have.toString(16)}, engine ${want.toString(16)}`)
        checked++
      }
    })
    assert.ok(checked > 50_000, `${checked} elements checked`)
    const last = trace.program.ops[trace.program.ops.length - 1]
    assert.equal(last.code, OPCODE.ARGMAX)
    assert.deepEqual(last.attrs, [recipe.model.vocab, window.length - 1])
    assert.equal(trace.outputs[trace.outputs.length - 1].i32[0], trace.token)
    assert.ok(trace.program.ops.some(op => op.inputs.some(r => r.kind === 'tokens')), 'the window is the tokens input')
    assert.ok(trace.program.ops.some(op => op.inputs.some(r => r.kind === 'slot')), 'the weights are the slots')
  })

  it('picks the token engine.generate picks greedily (the KV cache gives the same bits), at every position', async () => {
    const greedy = await generate(ctx, dir, prompt, { tokens: 8 })
    const ids = [...Buffer.from(prompt)]
    assert.ok(ids.length + greedy.tokens.length <= recipe.model.context)
    for (const [i, token] of greedy.tokens.entries()) {
      assert.equal(traceForward(ctx, recipe, weights, ids).token, token, `token ${i}`)
      ids.push(token)
    }
    assert.ok(new Set(greedy.tokens).size > 1, 'the model does not repeat one token')
  })

  it('has one program per window length, independent of the weights and the window', () => {
    const a = compileForwardProgram(ctx, recipe, 5)
    const b = traceForward(ctx, recipe, weights, [1, 2, 3, 4, 5]).program
    assert.equal(a.hash, b.hash)
    assert.notEqual(compileForwardProgram(ctx, recipe, 6).hash, a.hash)
    assert.notEqual(compileForwardProgram(ctx, { ...recipe, model: { ...recipe.model, hidden: recipe.model.hidden + 2 } }, 5).hash, a.hash)
  })

  it('carries a fault into the pick: a provider claiming another index commits another token', () => {
    const window = [...Buffer.from(prompt)]
    const honest = traceForward(ctx, recipe, weights, window)
    const lie = traceForward(ctx, recipe, weights, window, { fault: { op: honest.program.ops.length - 1, element: 0 } })
    assert.notEqual(lie.token, honest.token)
    assert.notEqual(wordOf(evaluateFrom(lie.program.ops.at(-1)!, 0, { seed: 0, step: 0 }, forwardInputs(lie.program.ops.at(-1)!, lie, weights, new Tensor([window.length], Int32Array.from(window)))), 'i32'), wordOf(lie.token, 'i32'))
  })

  it('refuses windows past the context, and models that are not transformers', () => {
    assert.throws(() => traceForward(ctx, recipe, weights, []), (e: Error) => e.name === 'ProgramError')
    assert.throws(() => traceForward(ctx, recipe, weights, new Array(recipe.model.context + 1).fill(1)), (e: Error) => e.name === 'ProgramError')
    const mlp: Recipe = { ...recipe, model: { kind: 'mlp', vocab: 256, context: 4, dModel: 8, hidden: 8, layers: 1 } }
    assert.throws(() => traceForward(ctx, mlp, initParams(mlp.model, 1), [1]), (e: Error) => e.name === 'ProgramError')
  })
})
