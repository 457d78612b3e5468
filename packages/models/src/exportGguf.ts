import { basename, dirname, join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import type { Recipe, TransformerConfig } from '@commons/engine'
import { BpeTokenizer, type Bpe } from '@commons/tokenizer'
import { encodeGguf, type GgufValue } from './gguf.ts'
import { llamaMetadata, llamaTensors, type ExportDtype } from './llamaLayout.ts'
import { BYTE_EOS, ExportError, readTrainedRun, writeAtomically, type Provenance, type TrainedRun } from './trainedRun.ts'

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

/** llama.cpp's token types: a normal token, and a control (special) token. */
export const TOKEN_TYPE = { normal: 1, control: 3 } as const

/** llama.cpp's names of the pre-tokenizers. */
export const GGUF_PRE = { gpt2: 'gpt-2', llama3: 'llama-bpe' } as const

/**
 * End and begin of text: a Commons tokenizer has no special tokens and ends at byte 0; a
 * published vocabulary's are its special tokens named so (the first special otherwise).
 */
export function textMarkers (tokenizer: BpeTokenizer): { bos: number, eos: number } {
  const specials = tokenizer.specialTokens()
  if (specials.length === 0) return { bos: BYTE_EOS, eos: BYTE_EOS }
  const named = (pattern: RegExp): number | undefined => specials.find(s => pattern.test(s.content))?.id
  const eos = named(/end_?of_?text|^<\/s>$|eot|eos/i) ?? specials[0].id
  return { bos: named(/begin_?of_?text|^<s>$|bos/i) ?? eos, eos }
}

/** The tokenizer section: a byte-level BPE ("gpt2" model), its pre-tokenizer, special tokens as control tokens. */
export function tokenizerMetadata (bpe: Bpe): Array<[string, GgufValue]> {
  const tokenizer = new BpeTokenizer(bpe)
  const special = new Set(tokenizer.specialTokens().map(s => s.id))
  const { bos, eos } = textMarkers(tokenizer)
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: GGUF_PRE[bpe.pre ?? 'gpt2'] }],
    ['tokenizer.ggml.tokens', { type: 'strings', value: tokenizer.tokenStrings() }],
    ['tokenizer.ggml.token_type', { type: 'i32s', value: Array.from({ length: tokenizer.vocab }, (_, id) => special.has(id) ? TOKEN_TYPE.control : TOKEN_TYPE.normal) }],
    ['tokenizer.ggml.merges', { type: 'strings', value: tokenizer.mergeStrings() }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: bos }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: eos }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }]
  ]
}

export interface LlamaGgufParameters {
  name: string
  config: TransformerConfig
  param: TrainedRun['param']
  tokenizer: Bpe
  dtype: ExportDtype
  /** Further keys (provenance), after the model's and the tokenizer's. */
  extra?: Array<[string, GgufValue]>
}

/** The parts of a llama GGUF (header, then aligned tensor data) for a transformer and its tokenizer. */
export function encodeLlamaGguf (params: LlamaGgufParameters): { parts: Uint8Array[], tensors: number } {
  const vocab = new BpeTokenizer(params.tokenizer).vocab
  if (vocab !== params.config.vocab) throw new ExportError(`the model has ${params.config.vocab} tokens, its tokenizer ${vocab}`)
  const layout = llamaTensors(params.config, params.param, params.dtype)
  const parts = encodeGguf([
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: params.name }],
    ['general.file_type', { type: 'u32', value: params.dtype === 'f16' ? 1 : 0 }],
    ['general.alignment', { type: 'u32', value: 32 }],
    ...llamaMetadata(params.config),
    ...tokenizerMetadata(params.tokenizer),
    ...(params.extra ?? [])
  ], layout)
  return { parts, tensors: layout.length }
}

/**
 * Exports a trained transformer as a llama-architecture GGUF that llama.cpp, Ollama and
 * LM Studio load as it is, with the run's provenance in `commons.*` keys, and an Ollama
 * Modelfile beside it.
 */
export async function exportGguf (params: ExportGgufParameters): Promise<ExportGgufReturnType> {
  const { recipe, config, param, provenance, tokenizer } = await readTrainedRun(params.run, params.jobId)
  const dtype = params.dtype ?? 'f32'
  const string = (value: string): GgufValue => ({ type: 'string', value })
  const optional = (key: string, value?: string): Array<[string, GgufValue]> => value === undefined ? [] : [[key, string(value)]]
  const { parts, tensors } = encodeLlamaGguf({ name: recipe.name, config, param, tokenizer, dtype, extra: [
    ['commons.recipe', string(provenance.recipe)],
    ['commons.state_root', string(provenance.stateRoot)],
    ...optional('commons.transcript_root', provenance.transcriptRoot),
    ...optional('commons.tokens_root', provenance.tokensRoot),
    ['commons.tokenizer', string(recipe.tokenizer)],
    ...optional('commons.dataset_cid', provenance.dataset),
    ...optional('commons.job_id', provenance.jobId),
    ...optional('commons.imported', provenance.imported)
  ] })
  const bytes = await writeAtomically(params.out, parts)
  const modelfile = join(dirname(params.out), 'Modelfile')
  await writeFileAtomic(modelfile, modelfileText(params.out, recipe))
  return { path: params.out, modelfile, tensors, bytes, provenance }
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
