import { stat } from 'node:fs/promises'
import { paramSpecs, readRecipe, type Recipe } from '@commons/engine'
import { BaseError } from '@commons/errors'

/** A recipe too large to train here: it would exhaust memory instead of failing clearly. */
export class RecipeTooLargeError extends BaseError {
  override name = 'RecipeTooLargeError'
}

/**
 * Bounds a recipe is checked against before anything is allocated. A float32 parameter
 * costs 16 bytes with its gradient and Adam's two moments: 2^26 parameters is 1 GiB.
 */
export const RECIPE_LIMITS = {
  fileBytes: 1 << 20,
  layers: 256,
  width: 1 << 16,
  parameters: 1 << 26,
  tokensPerStep: 1 << 20,
  steps: 0xffffffff
}

/** Reads a recipe and refuses one whose model or schedule exceeds RECIPE_LIMITS. */
export async function readCheckedRecipe (path: string): Promise<Recipe> {
  const size = await stat(path).then(s => s.size, () => 0)
  if (size > RECIPE_LIMITS.fileBytes) tooLarge(path, `the file is ${size} bytes (at most ${RECIPE_LIMITS.fileBytes})`)
  const recipe = await readRecipe(path)
  const m = recipe.model
  if (m.layers > RECIPE_LIMITS.layers) tooLarge(path, `${m.layers} layers (at most ${RECIPE_LIMITS.layers})`)
  const widest = Math.max(m.dModel, m.hidden, m.context)
  if (widest > RECIPE_LIMITS.width) tooLarge(path, `a dimension of ${widest} (at most ${RECIPE_LIMITS.width})`)
  const parameters = paramSpecs(m).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0)
  if (parameters > RECIPE_LIMITS.parameters) tooLarge(path, `${parameters} parameters (at most ${RECIPE_LIMITS.parameters})`)
  if (recipe.batchSize * m.context > RECIPE_LIMITS.tokensPerStep) tooLarge(path, `${recipe.batchSize * m.context} tokens a step (at most ${RECIPE_LIMITS.tokensPerStep})`)
  if (recipe.steps > RECIPE_LIMITS.steps) tooLarge(path, `${recipe.steps} steps (at most ${RECIPE_LIMITS.steps})`)
  return recipe
}

function tooLarge (path: string, what: string): never {
  throw new RecipeTooLargeError(`recipe ${path} is too large: ${what}`, { hint: 'shrink the model or the batch; recipes/small.json is the benchmark size', details: { path } })
}
