import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { BaseError } from '@commons/errors'
import { MAX_INPUTS } from '@commons/protocol'
import type { ModelConfig } from './model.ts'
import type { OptimizerConfig } from '../train/optim.ts'

export class InvalidRecipeError extends BaseError {
  override name = 'InvalidRecipeError'
}

const positive = z.number().int().positive()

const transformer = z.object({
  kind: z.literal('transformer'),
  vocab: positive,
  dModel: positive,
  layers: positive,
  heads: positive,
  kvHeads: positive.optional(),
  hidden: positive,
  context: positive,
  tiedEmbeddings: z.boolean().default(false),
  normEps: z.number().positive().default(1e-5),
  ropeTheta: z.number().positive().default(10000)
}).refine(m => m.dModel % m.heads === 0 && (m.dModel / m.heads) % 2 === 0, { message: 'dModel must split into heads of even size' })
  .refine(m => m.kvHeads === undefined || m.heads % m.kvHeads === 0, { message: 'kvHeads must divide heads (grouped-query attention)', path: ['kvHeads'] })

const mlp = z.object({
  kind: z.literal('mlp'),
  vocab: positive,
  context: positive,
  dModel: positive,
  hidden: positive,
  layers: positive
})

const optimizer = z.object({
  lr: z.number().positive(),
  minLr: z.number().nonnegative(),
  warmupSteps: z.number().int().nonnegative(),
  beta1: z.number().min(0).max(1),
  beta2: z.number().min(0).max(1),
  eps: z.number().positive(),
  weightDecay: z.number().nonnegative(),
  gradClip: z.number().nonnegative()
})

export const recipeSchema = z.object({
  name: z.string().min(1),
  model: z.discriminatedUnion('kind', [transformer, mlp]),
  // 'byte', or the CID of a byte-level BPE's tokenizer.json (commons tokenizer train).
  tokenizer: z.union([z.literal('byte'), z.string().regex(/^bafkrei[a-z2-7]{52}$/, 'a tokenizer is "byte" or the raw CID of a tokenizer.json (bafkrei...)')]),
  // A fine-tuning recipe starts from base weights: the CID of a stored model folder (a run or `commons model import`).
  base: z.string().regex(/^baf[a-z2-7]{50,}$/, 'a base is the CID (baf...) of a stored model folder: a run, or one commons model import wrote').optional(),
  optimizer,
  batchSize: positive,
  steps: positive,
  seed: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  checkpointInterval: positive
}).refine(r => r.tokenizer === 'byte' ? r.model.vocab === 256 : r.model.vocab > 256, { message: 'the byte tokenizer needs vocab 256, a BPE more', path: ['model', 'vocab'] })
  .superRefine((r, issues) => {
    // Every element of the step must be checkable on-chain: no dot product longer than
    // MAX_INPUTS / 2 terms (each term reads two inputs), forward or backward.
    const most = MAX_INPUTS / 2
    const lengths: Array<[string, number]> = r.model.kind === 'transformer'
      ? [['model.dModel', r.model.dModel], ['model.hidden', r.model.hidden], ['model.vocab', r.model.vocab], ['model.context', r.model.context], ['batchSize', r.batchSize * r.model.context]]
      : [['model.dModel', r.model.context * r.model.dModel], ['model.hidden', r.model.hidden], ['model.vocab', r.model.vocab], ['batchSize', r.batchSize]]
    for (const [path, length] of lengths) {
      if (length > most) issues.addIssue({ code: 'custom', path: path.split('.'), message: `a dot product of ${length} terms: the step program allows ${most} (an element must be checkable on-chain)` })
    }
  })

/** A training recipe: model, tokenizer, optimiser and schedule, batch, steps, seed. */
export interface Recipe {
  name: string
  model: ModelConfig
  /** 'byte', or the CID of a BPE tokenizer.json whose vocabulary is the model's. */
  tokenizer: 'byte' | string
  /**
   * Fine-tuning: the CID of the stored model folder whose model.safetensors is S_0's
   * parameters (train/baseWeights.ts); absent, S_0 is drawn from `seed`.
   */
  base?: string
  optimizer: OptimizerConfig
  batchSize: number
  steps: number
  seed: number
  checkpointInterval: number
}

/** Validates a parsed recipe, with every problem named by its path. */
export function parseRecipe (value: unknown, source = 'recipe'): Recipe {
  const result = recipeSchema.safeParse(value)
  if (!result.success) {
    const problems = result.error.issues.map(i => `${i.path.join('.') || '(root)'}: ${i.message}`)
    throw new InvalidRecipeError(`${source} is not a valid recipe: ${problems.join('; ')}`, {
      hint: 'see recipes/tiny.json for a complete example', details: { problems }
    })
  }
  return result.data as Recipe
}

export async function readRecipe (path: string): Promise<Recipe> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new InvalidRecipeError(`cannot read recipe ${path}`, { hint: 'pass the path of a recipe JSON file, such as recipes/tiny.json', cause })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new InvalidRecipeError(`${path} is not valid JSON: ${(cause as Error).message}`, { cause })
  }
  return parseRecipe(json, path)
}
