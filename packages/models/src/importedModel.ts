import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import { paramSpecs, parseRecipe, stateRootOf, Tensor, writeSafetensors, type Recipe, type TransformerConfig } from '@commons/engine'
import { BaseError } from '@commons/errors'
import { toHex } from '@commons/protocol'
import { tokenizerFile, type Bpe } from '@commons/tokenizer'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { Provenance } from './trainedRun.ts'

export class ImportError extends BaseError {
  override name = 'ImportError'
}

/** A model's key/value heads as its config carries them: absent for one per head (multi-head attention). */
export function groupedQuery (heads: number, kvHeads: number, source: string): { kvHeads?: number } {
  if (kvHeads === heads) return {}
  if (!Number.isInteger(kvHeads) || kvHeads < 1 || heads % kvHeads !== 0) throw new ImportError(`${source}: ${kvHeads} key/value heads do not divide ${heads} query heads`)
  return { kvHeads }
}

export interface ImportedModel {
  dir: string
  recipe: Recipe
  /** The root of S_0 with these weights (zero moments): what a fine-tuning job binds; S_T for a run Commons exported. */
  stateRoot: string
  /** 'byte', or the CID of the tokenizer.json written beside the weights. */
  tokenizer: string
  parameters: number
}

/** Training settings for fine-tuning an imported model; the model and tokenizer come from the file. */
const FINE_TUNING = {
  optimizer: { lr: 0.0003, minLr: 0.00003, warmupSteps: 10, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.0, gradClip: 1.0 },
  batchSize: 8, steps: 100, seed: 1, checkpointInterval: 50
}

export interface ImportedParts {
  /** Where the model came from (a file name), for its provenance. */
  source: string
  out: string
  config: TransformerConfig
  /** Commons parameters by Commons name. */
  tensors: Map<string, Tensor>
  tokenizer: Bpe
  /** The recipe and provenance a model Commons exported carries (absent for others). */
  exported?: { recipe: Record<string, unknown>, provenance: Partial<Provenance> }
}

/**
 * Writes an imported model as a folder that generates and exports like a run:
 * model.safetensors (Commons layout, recipe and provenance in its metadata), recipe.json
 * and, for a BPE, tokenizer.json (named by its CID in the recipe).
 */
export async function writeImported (parts: ImportedParts): Promise<ImportedModel> {
  const { config, tensors, exported } = parts
  const json = tokenizerFile(parts.tokenizer)
  const tokenizer = parts.tokenizer.merges.length === 0 && parts.tokenizer.vocabulary === undefined ? 'byte' : CID.createV1(raw.code, await sha256.digest(json)).toString()
  // A model Commons exported keeps its recipe's exact model (its epsilon may have been stored narrower); the tensors must fit it.
  const exportedModel = exported?.recipe.model as TransformerConfig | undefined
  if (exportedModel !== undefined && (Object.keys(config) as Array<keyof TransformerConfig>).some(k => k !== 'normEps' && k !== 'ropeTheta' && exportedModel[k] !== config[k])) {
    throw new ImportError(`${parts.source}: its Commons recipe describes another model than its tensors`)
  }
  const recipe = parseRecipe({ ...FINE_TUNING, ...exported?.recipe, name: exported?.recipe.name ?? parts.source.replace(/\.[a-z]+$/, ''), model: exportedModel ?? config, tokenizer }, parts.source)
  const specs = paramSpecs(recipe.model)
  for (const spec of specs) {
    const shape = tensors.get(spec.name)?.shape ?? []
    if (shape.join() !== spec.shape.join()) throw new ImportError(`${parts.source}: ${spec.name} is [${shape.join(', ')}], the model needs [${spec.shape.join(', ')}]`)
  }
  const weights = specs.map(s => tensors.get(s.name) as Tensor)
  const stateRoot = exported?.provenance.stateRoot ??
    toHex(stateRootOf({ step: 0, params: weights, m: weights.map(t => Tensor.zeros(t.shape)), v: weights.map(t => Tensor.zeros(t.shape)) }))
  const carried = Object.fromEntries(Object.entries(exported?.provenance ?? {}).filter(([k, v]) => typeof v === 'string' && k !== 'recipe' && k !== 'stateRoot')) as Record<string, string>
  await mkdir(parts.out, { recursive: true })
  await writeSafetensors(join(parts.out, 'model.safetensors'), specs.map((s, i) => [s.name, weights[i]]), {
    recipe: JSON.stringify(recipe), stateRoot, ...carried, ...(exported === undefined ? { imported: parts.source } : {})
  })
  if (tokenizer !== 'byte') await writeFileAtomic(join(parts.out, 'tokenizer.json'), json)
  await writeFileAtomic(join(parts.out, 'recipe.json'), JSON.stringify(recipe, null, 2) + '\n')
  return { dir: parts.out, recipe, stateRoot, tokenizer, parameters: weights.reduce((n, t) => n + t.size, 0) }
}
