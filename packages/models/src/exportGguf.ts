import { open, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { parseRecipe, readSafetensors, type Recipe, type Tensor } from '@commons/engine'
import { BaseError } from '@commons/errors'
import { byteToUnicode } from './byteTokens.ts'
import { encodeGguf, type GgufValue } from './gguf.ts'
import { llamaMetadata, llamaTensors, type ExportDtype } from './llamaLayout.ts'

export class ExportError extends BaseError {
  override name = 'ExportError'
}

export interface ExportGgufParameters {
  /** A run directory (commons train --out, or a node's published run). */
  run: string
  /** The .gguf file to write; a Modelfile is written beside it. */
  out: string
  dtype?: ExportDtype
  /** The training job that produced the run, when known: recorded as provenance. */
  jobId?: string
}

export interface ExportGgufReturnType {
  path: string
  modelfile: string
  tensors: number
  bytes: number
  provenance: Provenance
}

/** What lets anyone holding the file check where it came from. */
export interface Provenance {
  recipe: string
  stateRoot: string
  transcriptRoot: string
  tokensRoot: string
  dataset?: string
  jobId?: string
}

/** The byte tokenizer has no BOS and no EOS of its own: byte 0 (NUL) ends a generation. */
export const BYTE_EOS = 0

async function readProvenance (run: string, metadata: Record<string, string>, jobId?: string): Promise<Provenance> {
  const runJson = await readFile(join(run, 'run.json'), 'utf8').then(text => JSON.parse(text) as { data?: { source?: string } }, () => ({ data: undefined }))
  const source = runJson.data?.source
  const missing = ['recipe', 'stateRoot', 'transcriptRoot', 'tokensRoot'].filter(k => metadata[k] === undefined)
  if (missing.length > 0) throw new ExportError(`${join(run, 'model.safetensors')} lacks ${missing.join(', ')} in its metadata`, { hint: 'export a run written by commons train' })
  return {
    recipe: metadata.recipe,
    stateRoot: metadata.stateRoot,
    transcriptRoot: metadata.transcriptRoot,
    tokensRoot: metadata.tokensRoot,
    ...(source !== undefined && /^(baf|Qm)/.test(source) ? { dataset: source } : {}),
    ...(jobId !== undefined ? { jobId } : {})
  }
}

function tokenizerMetadata (recipe: Recipe): Array<[string, GgufValue]> {
  if (recipe.tokenizer !== 'byte') throw new ExportError(`tokenizer ${String(recipe.tokenizer)} cannot be exported yet`)
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'default' }],
    ['tokenizer.ggml.tokens', { type: 'strings', value: byteToUnicode() }],
    ['tokenizer.ggml.token_type', { type: 'i32s', value: new Array<number>(256).fill(1) }],
    ['tokenizer.ggml.merges', { type: 'strings', value: [] }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: BYTE_EOS }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: BYTE_EOS }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }]
  ]
}

/** Writes `parts` to `path` through a temporary file and a rename: never a half-written model. */
async function writeAtomically (path: string, parts: readonly Uint8Array[]): Promise<number> {
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

/**
 * Exports a trained transformer as a llama-architecture GGUF that llama.cpp, Ollama and
 * LM Studio load as it is, with the run's provenance in `commons.*` keys, and an Ollama
 * Modelfile beside it.
 */
export async function exportGguf (params: ExportGgufParameters): Promise<ExportGgufReturnType> {
  const source = join(params.run, 'model.safetensors')
  if (!await stat(source).then(s => s.isFile(), () => false)) {
    throw new ExportError(`${params.run} is not a finished training run (no model.safetensors)`, { hint: 'pass the --out directory of a commons train that ran to the end' })
  }
  const { tensors, metadata } = await readSafetensors(source)
  if (metadata.recipe === undefined) throw new ExportError(`${source} does not say which recipe made it`)
  const recipe = parseRecipe(JSON.parse(metadata.recipe), source)
  if (recipe.model.kind !== 'transformer') {
    throw new ExportError(`${recipe.name} is an ${recipe.model.kind} model: only transformers have a llama layout`, { hint: 'train a transformer recipe (see recipes/tiny.json)' })
  }
  const provenance = await readProvenance(params.run, metadata, params.jobId)
  const dtype = params.dtype ?? 'f32'
  const param = (name: string): Tensor => {
    const t = tensors.get(name)
    if (t === undefined) throw new ExportError(`${source} lacks ${name}`)
    return t
  }
  const string = (value: string): GgufValue => ({ type: 'string', value })
  const layout = llamaTensors(recipe.model, param, dtype)
  const gguf = encodeGguf([
    ['general.architecture', string('llama')],
    ['general.name', string(recipe.name)],
    ['general.file_type', { type: 'u32', value: dtype === 'f16' ? 1 : 0 }],
    ['general.alignment', { type: 'u32', value: 32 }],
    ...llamaMetadata(recipe.model),
    ...tokenizerMetadata(recipe),
    ['commons.recipe', string(provenance.recipe)],
    ['commons.state_root', string(provenance.stateRoot)],
    ['commons.transcript_root', string(provenance.transcriptRoot)],
    ['commons.tokens_root', string(provenance.tokensRoot)],
    ...(provenance.dataset !== undefined ? [['commons.dataset_cid', string(provenance.dataset)] as [string, GgufValue]] : []),
    ...(provenance.jobId !== undefined ? [['commons.job_id', string(provenance.jobId)] as [string, GgufValue]] : [])
  ], layout)
  const bytes = await writeAtomically(params.out, gguf)
  const modelfile = join(dirname(params.out), 'Modelfile')
  await writeAtomically(modelfile, [Buffer.from(modelfileText(params.out, recipe))])
  return { path: params.out, modelfile, tensors: layout.length, bytes, provenance }
}

/** An Ollama Modelfile: raw completion (no chat template), the run's context, no stop but NUL. */
function modelfileText (gguf: string, recipe: Recipe): string {
  return [
    `FROM ./${basename(gguf)}`,
    'TEMPLATE """{{ .Prompt }}"""',
    `PARAMETER num_ctx ${recipe.model.context}`,
    'PARAMETER stop "\\u0000"',
    ''
  ].join('\n')
}
