import { basename, dirname, join } from 'node:path'
import type { Recipe } from '@commons/engine'
import { byteToUnicode } from './byteTokens.ts'
import { encodeGguf, type GgufValue } from './gguf.ts'
import { llamaMetadata, llamaTensors, type ExportDtype } from './llamaLayout.ts'
import { BYTE_EOS, ExportError, readTrainedRun, writeAtomically, type Provenance } from './trainedRun.ts'

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

/**
 * Exports a trained transformer as a llama-architecture GGUF that llama.cpp, Ollama and
 * LM Studio load as it is, with the run's provenance in `commons.*` keys, and an Ollama
 * Modelfile beside it.
 */
export async function exportGguf (params: ExportGgufParameters): Promise<ExportGgufReturnType> {
  const { recipe, config, param, provenance } = await readTrainedRun(params.run, params.jobId)
  const dtype = params.dtype ?? 'f32'
  const string = (value: string): GgufValue => ({ type: 'string', value })
  const optional = (key: string, value?: string): Array<[string, GgufValue]> => value === undefined ? [] : [[key, string(value)]]
  const layout = llamaTensors(config, param, dtype)
  const gguf = encodeGguf([
    ['general.architecture', string('llama')],
    ['general.name', string(recipe.name)],
    ['general.file_type', { type: 'u32', value: dtype === 'f16' ? 1 : 0 }],
    ['general.alignment', { type: 'u32', value: 32 }],
    ...llamaMetadata(config),
    ...tokenizerMetadata(recipe),
    ['commons.recipe', string(provenance.recipe)],
    ['commons.state_root', string(provenance.stateRoot)],
    ['commons.transcript_root', string(provenance.transcriptRoot)],
    ['commons.tokens_root', string(provenance.tokensRoot)],
    ...optional('commons.dataset_cid', provenance.dataset),
    ...optional('commons.job_id', provenance.jobId)
  ], layout)
  const bytes = await writeAtomically(params.out, gguf)
  const modelfile = join(dirname(params.out), 'Modelfile')
  await writeAtomically(modelfile, [Buffer.from(modelfileText(params.out, recipe))])
  return { path: params.out, modelfile, tensors: layout.length, bytes, provenance }
}

/** An Ollama Modelfile: raw completion (no chat template), the run's context, stop on NUL. */
function modelfileText (gguf: string, recipe: Recipe): string {
  return [
    `FROM ./${basename(gguf)}`,
    'TEMPLATE """{{ .Prompt }}"""',
    `PARAMETER num_ctx ${recipe.model.context}`,
    'PARAMETER stop "\\u0000"',
    ''
  ].join('\n')
}
