import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { faultChangesState, initialState, paramSpecs, referenceContext, trainStep, type Recipe } from '@commons/engine'
import { FaultSpecError, parseFault, resolveFault } from './faults.ts'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const tokens = Int32Array.from(await readFile(`${repo}packages/engine/fixtures/corpus.txt`))
const tiny = JSON.parse(await readFile(`${repo}recipes/tiny.json`, 'utf8')) as Recipe
const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 4, checkpointInterval: 2 }
const engine = referenceContext()

describe('a fault drawn by --fault', () => {
  it('changes the state at the step where it fires (not merely at S_0)', () => {
    for (const seed of [1, 2, 3, 4]) {
      const fault = resolveFault(engine, parseFault('step', seed), recipe, tokens)
      assert.equal(fault.kind, 'step')
      if (fault.kind !== 'step') continue
      const state = initialState(recipe)
      while (state.step < fault.step) trainStep(engine, recipe, tokens, state)
      assert.ok(faultChangesState(engine, recipe, tokens, state, fault), `seed ${seed}: the fault at step ${fault.step} reaches S_${fault.step + 1}`)
    }
  })

  it('names a weight of the model file: given, or drawn inside the parameters', () => {
    assert.deepEqual(resolveFault(engine, parseFault('model,slot=1,element=4'), recipe, tokens), { kind: 'model', slot: 1, element: 4 })
    const specs = paramSpecs(recipe.model)
    for (const seed of [1, 2, 3]) {
      const fault = resolveFault(engine, parseFault('model', seed), recipe, tokens)
      assert.equal(fault.kind, 'model')
      if (fault.kind !== 'model') continue
      assert.ok(fault.slot < specs.length && fault.element < specs[fault.slot].shape.reduce((a, b) => a * b, 1), `seed ${seed}: inside parameter ${fault.slot}`)
    }
    assert.throws(() => parseFault('model,step=2'), (error: Error) => error.name === 'FaultSpecError')
    assert.throws(() => resolveFault(engine, parseFault(`model,slot=${specs.length}`), recipe, tokens), FaultSpecError)
  })

  it('takes what a trainer keeps to itself: its op trace (withhold), its run (hide), or both', () => {
    assert.deepEqual(parseFault('step=1,withhold', 2), { kind: 'step', step: 1, op: undefined, element: undefined, seed: 2, withhold: true })
    assert.deepEqual(parseFault('step,hide', 3), { kind: 'step', step: undefined, op: undefined, element: undefined, seed: 3, hide: true })
    assert.deepEqual(parseFault('loss,step=2,hide,withhold'), { kind: 'loss', step: 2, seed: 1, withhold: true, hide: true })
    assert.throws(() => parseFault('step,hidden'), FaultSpecError)
  })

  it('takes a trace published unlike the one posted (badtrace)', () => {
    assert.deepEqual(parseFault('step=1,badtrace', 2), { kind: 'step', step: 1, op: undefined, element: undefined, seed: 2, badTrace: true })
  })
})
