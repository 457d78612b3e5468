import { readRecipe, initialState, trainStep, tablesFor, useBackend, stateRootOf } from './index.ts'
import { readFileSync } from 'node:fs'
const recipe = await readRecipe('../../recipes/small.json')
const tokens = Int32Array.from(readFileSync('fixtures/corpus.txt'))
const backend = useBackend('wasm', 2)
const state = initialState(recipe)
const tables = tablesFor(recipe.model)
for (let i = 0; i < 3; i++) {
  let t0 = performance.now()
  const loss = trainStep(recipe, tokens, state, tables)
  const step = performance.now() - t0
  t0 = performance.now()
  stateRootOf(state)
  console.log('step', step.toFixed(0), 'ms; root', (performance.now() - t0).toFixed(0), 'ms; loss', loss)
}
await backend.close()
