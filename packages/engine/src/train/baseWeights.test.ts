import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { evaluateFrom, OPCODE, wordOf } from '@commons/protocol'
import { initialState, initParams, readRecipe, referenceContext, stateSlots, type Recipe } from '../index.ts'
import { compileProgram, corruptElement } from './program.ts'
import { BaseWeightsError } from './baseWeights.ts'
import { Tensor } from '../core/tensor.ts'

const repo = fileURLToPath(new URL('../../../../', import.meta.url))
const tiny = await readRecipe(join(repo, 'recipes/tiny.json'))
const ctx = referenceContext()
const BASE_CID = 'bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

describe('fine-tuning from base weights', () => {
  const drawn: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 }, batchSize: 2 }
  const recipe: Recipe = { ...drawn, base: BASE_CID }
  // Base weights that are not the recipe's own draws: another seed's.
  const base = initParams(recipe.model, 999)

  it('starts S_0 from the base weights, and the init program COPYs them from program constants', () => {
    const state = initialState(recipe, base)
    state.params.forEach((p, i) => assert.deepEqual(p.f32, base[i].f32, `param ${i}`))
    assert.notEqual(state.params[0].data, base[0].data, 'S_0 owns its parameters: training does not change the base')
    const program = compileProgram(ctx, recipe, base)
    const p = program.paramSlots
    program.init.slice(0, p).forEach((op, s) => {
      assert.equal(op.code, OPCODE.COPY)
      assert.equal(op.inputs[0].kind, 'const')
      const constant = program.constants[op.inputs[0].index]
      const slot = stateSlots(state)[s]
      for (let e = 0; e < slot.size; e += 5) assert.equal(wordOf(evaluateFrom(op, e, { seed: recipe.seed, step: 0 }, [constant]), 'f32'), wordOf(slot.data[e], 'f32'))
    })
  })

  it('binds the base weights in the program hash: one bit of one weight changes it', () => {
    const hash = compileProgram(ctx, recipe, base).hash
    assert.notEqual(hash, compileProgram(ctx, drawn).hash, 'a fine-tune is not the run from scratch')
    const other = base.map(t => new Tensor(t.shape, Float32Array.from(t.f32)))
    corruptElement(other[3], 17)
    assert.notEqual(compileProgram(ctx, recipe, other).hash, hash)
    assert.equal(compileProgram(ctx, recipe, base.map(t => new Tensor(t.shape, Float32Array.from(t.f32)))).hash, hash, 'the same values, the same hash')
  })

  it('refuses a fine-tuning recipe without its weights, weights of another shape, and weights for a recipe that draws its own', () => {
    assert.throws(() => initialState(recipe), BaseWeightsError)
    assert.throws(() => compileProgram(ctx, recipe), BaseWeightsError)
    assert.throws(() => initialState(recipe, base.slice(1)), BaseWeightsError)
    assert.throws(() => initialState(recipe, base.map(t => new Tensor([t.size], t.f32))), BaseWeightsError)
    assert.throws(() => initialState(drawn, base), BaseWeightsError)
  })
})
