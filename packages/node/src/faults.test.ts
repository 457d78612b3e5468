import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { faultChangesState, initialState, referenceContext, trainStep, type Recipe } from '@commons/engine'
import { parseFault, resolveFault } from './faults.ts'

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
})
