import { mkdir, open } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { gguf } from '@huggingface/gguf'
import { paramSpecs, parseRecipe, stateRootOf, Tensor, writeSafetensors, type Recipe, type TransformerConfig } from '@commons/engine'
import { BaseError } from '@commons/errors'
import { toHex } from '@commons/protocol'
import { BpeTokenizer, byteToUnicode, parseTokenizerJson, tokenizerFile, type Bpe } from '@commons/tokenizer'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { GGML_TYPE } from './gguf.ts'
import { f16Value } from './half.ts'
import { fromLlama, llamaNames } from './llamaLayout.ts'
import { writeAtomically } from './trainedRun.ts'

export class ImportError extends BaseError {
  override name = 'ImportError'
}

export interface ImportGgufParameters {
  /** A llama-architecture GGUF (F32 or F16 tensors). */
  file: string
  /** The folder to write: model.safetensors (+ tokenizer.json), like a run's. */
  out: string
}

export interface ImportGgufReturnType {
  dir: string
  recipe: Recipe
  /** The root of S_0 with these weights (zero moments): what a fine-tuning job binds. */
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

/** The tokenizer section as a byte-level BPE: the first 256 tokens must be the bytes, in order. */
function tokenizerOf (meta: Record<string, unknown>, file: string): Bpe {
  const model = meta['tokenizer.ggml.model']
  const tokens = meta['tokenizer.ggml.tokens']
  if (model !== 'gpt2' || !Array.isArray(tokens)) {
    throw new ImportError(`${file} has a ${String(model)} tokenizer: only byte-level BPE ("gpt2") vocabularies import`, { hint: 'SentencePiece vocabularies are not supported yet' })
  }
  const bytes = byteToUnicode()
  if (tokens.length < 256 || bytes.some((b, i) => tokens[i] !== b)) {
    throw new ImportError(`${file}: its vocabulary does not start with the 256 bytes in order`, { hint: 'Commons tokenizers are byte-level BPEs whose ids 0-255 are the bytes' })
  }
  const merges = (meta['tokenizer.ggml.merges'] as string[] | undefined) ?? []
  return parseTokenizerJson({ model: { type: 'BPE', vocab: Object.fromEntries((tokens as string[]).map((t, i) => [t, i])), merges } }, file)
}

/**
 * Imports a llama-architecture GGUF as Commons weights: the recipe (model and tokenizer
 * from the file; training settings for fine-tuning), model.safetensors in Commons' layout,
 * and tokenizer.json. A GGUF that Commons exported comes back with its recipe and
 * provenance, so exporting it again gives the same tensors.
 */
export async function importGguf (params: ImportGgufParameters): Promise<ImportGgufReturnType> {
  const parsed = await gguf(params.file, { allowLocalFile: true }).catch((cause: unknown) => {
    throw new ImportError(`${params.file} is not a readable GGUF file`, { cause })
  })
  const meta = parsed.metadata as unknown as Record<string, unknown>
  if (meta['general.architecture'] !== 'llama') throw new ImportError(`${params.file} is a ${String(meta['general.architecture'])} model: only llama imports`)
  const num = (key: string): number => {
    const v = meta[key]
    if (typeof v !== 'number' && typeof v !== 'bigint') throw new ImportError(`${params.file} lacks ${key}`)
    return Number(v)
  }
  const bpe = tokenizerOf(meta, params.file)
  const vocab = new BpeTokenizer(bpe).vocab
  const heads = num('llama.attention.head_count')
  if ((meta['llama.attention.head_count_kv'] ?? heads) !== heads) {
    throw new ImportError(`${params.file} uses grouped-query attention (${num('llama.attention.head_count_kv')} key/value heads for ${heads})`, { hint: 'the engine and its provers support one key/value head per head for now' })
  }
  const infos = new Map(parsed.tensorInfos.map(t => [t.name, t]))
  const config: TransformerConfig = {
    kind: 'transformer', vocab, dModel: num('llama.embedding_length'), layers: num('llama.block_count'), heads,
    hidden: num('llama.feed_forward_length'), context: num('llama.context_length'), tiedEmbeddings: !infos.has('output.weight'),
    normEps: num('llama.attention.layer_norm_rms_epsilon'), ropeTheta: typeof meta['llama.rope.freq_base'] === 'number' ? meta['llama.rope.freq_base'] : 10000
  }
  if (meta['llama.rope.dimension_count'] !== undefined && num('llama.rope.dimension_count') !== config.dModel / heads) throw new ImportError(`${params.file} rotates ${num('llama.rope.dimension_count')} of each head's ${config.dModel / heads} dimensions: only full RoPE imports`)
  const json = tokenizerFile(bpe)
  const tokenizer = bpe.merges.length === 0 ? 'byte' : CID.createV1(raw.code, await sha256.digest(json)).toString()
  const exported = typeof meta['commons.recipe'] === 'string' ? JSON.parse(meta['commons.recipe']) as Record<string, unknown> : undefined
  // A GGUF Commons exported keeps its recipe's exact model (its epsilon was stored as binary32); the tensors must fit it.
  const exportedModel = exported?.model as TransformerConfig | undefined
  if (exportedModel !== undefined && (Object.keys(config) as Array<keyof TransformerConfig>).some(k => k !== 'normEps' && k !== 'ropeTheta' && exportedModel[k] !== config[k])) {
    throw new ImportError(`${params.file}: its commons.recipe describes another model than its tensors`)
  }
  const recipe = parseRecipe({ ...FINE_TUNING, ...exported, name: exported?.name ?? basename(params.file).replace(/\.gguf$/, ''), model: exportedModel ?? config, tokenizer }, params.file)

  // Every tensor, read from its offset, converted to F32 and put back in Commons' layout.
  const file = await open(params.file, 'r')
  const tensors = new Map<string, Tensor>()
  try {
    for (const { gguf: name, commons, kind } of llamaNames(config)) {
      const info = infos.get(name)
      if (info === undefined) throw new ImportError(`${params.file} lacks the tensor ${name}`)
      const dims = info.shape.map(Number)
      const count = dims.reduce((a, b) => a * b, 1)
      const type = Number(info.dtype)
      if (type !== GGML_TYPE.F32 && type !== GGML_TYPE.F16) throw new ImportError(`${name} is quantized (ggml type ${type}): only F32 and F16 import`, { hint: 'convert the model to F16 or F32 first' })
      const bytes = Buffer.alloc(count * (type === GGML_TYPE.F32 ? 4 : 2))
      await file.read(bytes, 0, bytes.length, Number(parsed.tensorDataOffset + info.offset))
      const values = new Float32Array(count)
      if (type === GGML_TYPE.F32) values.set(new Float32Array(bytes.buffer, bytes.byteOffset, count))
      else for (let i = 0; i < count; i++) values[i] = f16Value(bytes.readUInt16LE(2 * i))
      tensors.set(commons, fromLlama(config, kind, dims, values))
    }
  } finally {
    await file.close()
  }
  const specs = paramSpecs(config)
  for (const spec of specs) {
    const shape = tensors.get(spec.name)?.shape ?? []
    if (shape.join() !== spec.shape.join()) throw new ImportError(`${spec.name} is [${shape.join(', ')}], the model needs [${spec.shape.join(', ')}]`)
  }
  const weights = specs.map(s => tensors.get(s.name) as Tensor)
  const stateRoot = typeof meta['commons.state_root'] === 'string'
    ? meta['commons.state_root']
    : toHex(stateRootOf({ step: 0, params: weights, m: weights.map(t => Tensor.zeros(t.shape)), v: weights.map(t => Tensor.zeros(t.shape)) }))
  const carried = Object.fromEntries(([['transcriptRoot', 'commons.transcript_root'], ['tokensRoot', 'commons.tokens_root'], ['dataset', 'commons.dataset_cid'], ['jobId', 'commons.job_id']] as const)
    .filter(([, key]) => typeof meta[key] === 'string').map(([name, key]) => [name, meta[key] as string]))
  await mkdir(params.out, { recursive: true })
  await writeSafetensors(join(params.out, 'model.safetensors'), specs.map((s, i) => [s.name, weights[i]]), {
    recipe: JSON.stringify(recipe), stateRoot, ...carried, ...(exported === undefined ? { imported: basename(params.file) } : {})
  })
  if (tokenizer !== 'byte') await writeAtomically(join(params.out, 'tokenizer.json'), [json])
  await writeAtomically(join(params.out, 'recipe.json'), [Buffer.from(JSON.stringify(recipe, null, 2) + '\n')])
  return { dir: params.out, recipe, stateRoot, tokenizer, parameters: weights.reduce((n, t) => n + t.size, 0) }
}
