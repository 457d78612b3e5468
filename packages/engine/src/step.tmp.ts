import { readRecipe, initialState, trainStep, tablesFor, useBackend } from './index.ts'
import { readFileSync } from 'node:fs'
const recipe = await readRecipe('recipes/small.json')
const tokens = Int32Array.from(readFileSync('packages/engine/fixtures/corpus.txt'))
const backend = useBackend('native', 2)
const state = initialState(recipe)
const tables = tablesFor(recipe.model)
for (let i = 0; i < 5; i++) {
  const t0 = performance.now()
  const loss = trainStep(recipe, tokens, state, tables)
  console.log('step', (performance.now() - t0).toFixed(0), 'ms; loss', loss)
}
await backend.close()
