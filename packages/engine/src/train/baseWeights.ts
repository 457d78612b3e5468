import { BaseError } from '@commons/errors'
import { paramSpecs } from '../model/model.ts'
import type { Recipe } from '../model/recipe.ts'
import type { Tensor } from '../core/tensor.ts'
import { decodeSafetensors } from '../model/safetensors.ts'

/**
 * Base weights: what a fine-tuning recipe starts from. A recipe with `base` names, by
 * CID, a stored model folder (a run, or a model imported with `commons model import`)
 * whose model.safetensors holds every parameter by its Commons name. S_0 is those
 * weights with zero moments, and the step program's init ops COPY them from program
 * constants, so the program hash a job commits to binds their tensor roots: a trainer
 * whose S_0 departs from the base by one bit loses the INIT dispute, and weights fetched
 * under the CID that are not the ones the job was posted with give another program hash,
 * so no node claims or checks the job with them.
 */

export class BaseWeightsError extends BaseError {
  override name = 'BaseWeightsError'
}

/** The base weights of `recipe`, in parameter slot order, checked against its model. */
export function checkBase (recipe: Recipe, base: readonly Tensor[] | undefined): readonly Tensor[] {
  if (recipe.base === undefined) {
    if (base !== undefined) throw new BaseWeightsError(`recipe ${recipe.name} draws its weights from its seed: it takes no base weights`)
    return []
  }
  if (base === undefined) {
    throw new BaseWeightsError(`recipe ${recipe.name} fine-tunes the base model ${recipe.base}: its weights are needed`, { hint: 'have the base model in the store (commons model import ... --home, or fetch its CID)' })
  }
  const specs = paramSpecs(recipe.model)
  if (base.length !== specs.length) throw new BaseWeightsError(`the base weights have ${base.length} tensors, recipe ${recipe.name}'s model ${specs.length}`)
  specs.forEach((spec, i) => {
    if (base[i].dtype !== 'f32' || base[i].shape.join() !== spec.shape.join()) {
      throw new BaseWeightsError(`base weight ${spec.name} is ${base[i].dtype} [${base[i].shape.join(', ')}], the model needs f32 [${spec.shape.join(', ')}]`)
    }
  })
  return base
}

/** The base weights in a model.safetensors (Commons names and layout), in slot order. */
export function baseWeightsFrom (recipe: Recipe, bytes: Buffer, source: string): Tensor[] {
  const { tensors } = decodeSafetensors(bytes, source)
  const weights = paramSpecs(recipe.model).map(spec => {
    const t = tensors.get(spec.name)
    if (t === undefined) throw new BaseWeightsError(`${source} has no tensor ${spec.name}`, { hint: 'the base is a model folder of Commons (a run, or commons model import)' })
    return t
  })
  checkBase(recipe, weights)
  return weights
}
