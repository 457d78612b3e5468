import { BaseError } from '@commons/errors'
import { paramSpecs } from '../model/model.ts'
import { parseRecipe, type Recipe } from '../model/recipe.ts'
import { safetensorsHeader, type TensorEntry } from '../model/safetensors.ts'

/**
 * The model file a run publishes (`model.safetensors`, docs/design.md "The model file"):
 * S_T's parameters in slot order, under a header that is a function of the recipe, the
 * tokens root, S_T's root and the transcript root. The two roots are known only after
 * training, so a job binds the header as a *template* (`modelFileTemplate`): the bytes
 * around the two roots, and the file's length. ModelFileDisputes rebuilds the header from
 * the template and the roots on chain, so a header that maps names to other bytes (readers
 * would load another model although every weight sits at its canonical offset) is a lie
 * like a wrong weight.
 */

export class ModelFileTemplateError extends BaseError {
  override name = 'ModelFileTemplateError'
}

/**
 * The metadata of a run's model file, in the order written. The recipe is written in its
 * parsed form (keys in the schema's order), so every party derives the same bytes from
 * the same recipe, however its object was built.
 */
export function modelFileMetadata (recipe: Recipe, stateRoot: string, transcriptRoot: string, tokensRoot: string): Record<string, string> {
  return { recipe: JSON.stringify(parseRecipe(recipe)), stateRoot, transcriptRoot, tokensRoot }
}

/** The tensors of a run's model file: the recipe's parameters, F32, in slot order. */
export function modelFileEntries (recipe: Recipe): TensorEntry[] {
  return paramSpecs(recipe.model).map(p => ({ name: p.name, dtype: 'f32', shape: p.shape }))
}

/**
 * A header with two 32-byte roots left out: file bytes [0, 8 + H) are `prefix`, the state
 * root as 64 lowercase hex digits, `middle`, the transcript root likewise, `suffix`; the
 * whole file is `length` bytes.
 */
export interface ModelFileTemplate {
  prefix: Uint8Array
  middle: Uint8Array
  suffix: Uint8Array
  length: bigint
}

const ROOT_DIGITS = 64

/** Where a 64-digit value sits in a header: the one run of bytes two headers differ in. */
function rootAt (a: Uint8Array, b: Uint8Array, what: string): number {
  let first = 0
  while (first < a.length && a[first] === b[first]) first++
  let last = a.length - 1
  while (last > first && a[last] === b[last]) last--
  if (a.length !== b.length || last - first + 1 !== ROOT_DIGITS) {
    throw new ModelFileTemplateError(`the ${what} does not appear once as ${ROOT_DIGITS} hex digits in the header`)
  }
  return first
}

/**
 * The template of a header written by `safetensorsHeader(entries, metadata(s, t))` for roots
 * s and t, where `metadata` puts the state root before the transcript root. The positions of
 * the roots are found by writing the header with different roots (not by searching for a
 * marker, which a recipe's text could contain).
 */
export function headerTemplate (entries: readonly TensorEntry[], metadata: (stateRoot: string, transcriptRoot: string) => Record<string, string>): ModelFileTemplate {
  const zero = '0x' + '0'.repeat(ROOT_DIGITS)
  const ones = '0x' + 'f'.repeat(ROOT_DIGITS)
  const base = safetensorsHeader(entries, metadata(zero, zero))
  const state = rootAt(base, safetensorsHeader(entries, metadata(ones, zero)), 'state root')
  const transcript = rootAt(base, safetensorsHeader(entries, metadata(zero, ones)), 'transcript root')
  if (transcript < state + ROOT_DIGITS) throw new ModelFileTemplateError('the transcript root comes before the state root in the header')
  const data = entries.reduce((n, e) => n + e.shape.reduce((a, b) => a * b, 1) * 4, 0)
  return {
    prefix: base.subarray(0, state),
    middle: base.subarray(state + ROOT_DIGITS, transcript),
    suffix: base.subarray(transcript + ROOT_DIGITS),
    length: BigInt(base.length + data)
  }
}

/** The template of the model file a run of `recipe` on a dataset of `tokensRoot` publishes. */
export function modelFileTemplate (recipe: Recipe, tokensRoot: string): ModelFileTemplate {
  return headerTemplate(modelFileEntries(recipe), (s, t) => modelFileMetadata(recipe, s, t, tokensRoot))
}

/** File bytes [0, 8 + H) of the template filled with two roots (0x-prefixed hex). */
export function fillTemplate (template: ModelFileTemplate, stateRoot: string, transcriptRoot: string): Uint8Array {
  const digits = (root: string): Uint8Array => {
    const hex = root.toLowerCase().replace(/^0x/, '')
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new ModelFileTemplateError(`${root} is not a 32-byte root`)
    return new TextEncoder().encode(hex)
  }
  return Buffer.concat([template.prefix, digits(stateRoot), template.middle, digits(transcriptRoot), template.suffix])
}
