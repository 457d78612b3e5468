import { open, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseRecipe, readRunTokenizer, readSafetensors, type Recipe, type Tensor, type TransformerConfig } from '@commons/engine'
import { BaseError } from '@commons/errors'
import type { Bpe } from '@commons/tokenizer'

export class ExportError extends BaseError {
  override name = 'ExportError'
}

/** What lets anyone holding an exported model check where it came from. */
export interface Provenance {
  recipe: string
  /** S_T of the run (S_0 of the weights, for an imported model never trained here). */
  stateRoot: string
  transcriptRoot?: string
  tokensRoot?: string
  dataset?: string
  jobId?: string
  /** The file an imported model came from. */
  imported?: string
}

/** The byte tokenizer has no BOS and no EOS of its own: byte 0 (NUL) ends a generation. */
export const BYTE_EOS = 0

/** A finished run's transformer: its recipe, weights by Commons name, and provenance. */
export interface TrainedRun {
  recipe: Recipe
  config: TransformerConfig
  /** The run's tokenizer: the byte tokenizer is the BPE with no merges. */
  tokenizer: Bpe
  param: (name: string) => Tensor
  provenance: Provenance
}

/** Reads the weights and provenance of a finished run directory, or says what is wrong. */
export async function readTrainedRun (run: string, jobId?: string): Promise<TrainedRun> {
  const source = join(run, 'model.safetensors')
  if (!await stat(source).then(s => s.isFile(), () => false)) {
    throw new ExportError(`${run} is not a finished training run (no model.safetensors)`, { hint: 'pass the --out directory of a commons train that ran to the end' })
  }
  const { tensors, metadata } = await readSafetensors(source)
  const missing = ['recipe', 'stateRoot'].filter(k => metadata[k] === undefined)
  if (missing.length > 0) throw new ExportError(`${source} lacks ${missing.join(', ')} in its metadata`, { hint: 'export a run written by commons train' })
  const recipe = parseRecipe(JSON.parse(metadata.recipe), source)
  if (recipe.model.kind !== 'transformer') {
    throw new ExportError(`${recipe.name} is an ${recipe.model.kind} model: only transformers have a llama layout`, { hint: 'train a transformer recipe (see recipes/tiny.json)' })
  }
  const tokenizer = await readRunTokenizer(run, recipe)
  const runJson = await readFile(join(run, 'run.json'), 'utf8').then(text => JSON.parse(text) as { data?: { source?: string } }, () => ({ data: undefined }))
  const dataset = runJson.data?.source
  return {
    recipe,
    config: recipe.model,
    tokenizer,
    param: name => {
      const t = tensors.get(name)
      if (t === undefined) throw new ExportError(`${source} lacks ${name}`)
      return t
    },
    provenance: {
      recipe: metadata.recipe,
      stateRoot: metadata.stateRoot,
      ...(metadata.transcriptRoot !== undefined ? { transcriptRoot: metadata.transcriptRoot } : {}),
      ...(metadata.tokensRoot !== undefined ? { tokensRoot: metadata.tokensRoot } : {}),
      ...(metadata.imported !== undefined ? { imported: metadata.imported } : {}),
      ...(metadata.dataset !== undefined ? { dataset: metadata.dataset } : dataset !== undefined && /^(baf|Qm)/.test(dataset) ? { dataset } : {}),
      ...(jobId !== undefined ? { jobId } : metadata.jobId !== undefined ? { jobId: metadata.jobId } : {})
    }
  }
}

/**
 * Writes `parts` to `path` through a temporary file and a rename: never a half-written
 * file. For a model written in parts (a GGUF's header, then each tensor), so its bytes are
 * never gathered into one buffer; single buffers go through write-file-atomic.
 */
export async function writeAtomically (path: string, parts: readonly Uint8Array[]): Promise<number> {
  const temp = `${path}.${process.pid}.tmp`
  const file = await open(temp, 'w')
  let bytes = 0
  try {
    for (const part of parts) {
      await file.write(part)
      bytes += part.length
    }
    await file.sync()
  } catch (error) {
    await file.close()
    await rm(temp, { force: true })
    throw error
  }
  await file.close()
  await rename(temp, path)
  return bytes
}
