import { open } from 'node:fs/promises'
import { basename } from 'node:path'
import { gguf } from '@huggingface/gguf'
import { f16Values, type Tensor, type TransformerConfig } from '@commons/engine'
import { bpeOf, type Bpe, type PreTokenizer } from '@commons/tokenizer'
import { GGUF_PRE } from './exportGguf.ts'
import { GGML_TYPE } from './gguf.ts'
import { groupedQuery, ImportError, writeImported, type ImportedModel } from './importedModel.ts'
import { fromLlama, llamaNames } from './llamaLayout.ts'

export interface ImportGgufParameters {
  /** A llama-architecture GGUF (F32 or F16 tensors). */
  file: string
  /** The folder to write: model.safetensors (+ tokenizer.json), like a run's. */
  out: string
}

/**
 * The tokenizer section as a byte-level BPE: tokens in the file's order, control and
 * user-defined tokens as special tokens, GPT-2's or Llama 3's pre-tokenizer.
 */
function tokenizerOf (meta: Record<string, unknown>, file: string): Bpe {
  const model = meta['tokenizer.ggml.model']
  const tokens = meta['tokenizer.ggml.tokens']
  if (model !== 'gpt2' || !Array.isArray(tokens)) {
    throw new ImportError(`${file} has a ${String(model)} tokenizer: only byte-level BPE ("gpt2") vocabularies import`, { hint: 'SentencePiece vocabularies are not supported yet' })
  }
  const preName = meta['tokenizer.ggml.pre'] ?? GGUF_PRE.gpt2
  const pre = (Object.keys(GGUF_PRE) as PreTokenizer[]).find(k => GGUF_PRE[k] === preName || (k === 'llama3' && preName === 'llama3'))
  if (pre === undefined) throw new ImportError(`${file} splits text with the "${String(preName)}" pre-tokenizer`, { hint: 'GPT-2\'s ("gpt-2") and Llama 3\'s ("llama-bpe") import' })
  const types = (meta['tokenizer.ggml.token_type'] as number[] | undefined) ?? []
  const special = (tokens as string[]).flatMap((content, id) => types[id] === 3 || types[id] === 4 ? [{ id, content }] : [])
  const merges = (meta['tokenizer.ggml.merges'] as string[] | undefined) ?? []
  try {
    return bpeOf({ vocab: Object.fromEntries((tokens as string[]).map((t, i) => [t, i])), merges, special, pre }, file)
  } catch (cause) {
    throw new ImportError(`${file}: its vocabulary is not a byte-level BPE Commons reads`, { cause })
  }
}

/**
 * Imports a llama-architecture GGUF as Commons weights: the recipe (model and tokenizer
 * from the file; training settings for fine-tuning), model.safetensors in Commons' layout,
 * and tokenizer.json. A GGUF that Commons exported comes back with its recipe and
 * provenance, so exporting it again gives the same file.
 */
export async function importGguf (params: ImportGgufParameters): Promise<ImportedModel> {
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
  const tokenizer = tokenizerOf(meta, params.file)
  const heads = num('llama.attention.head_count')
  const kvHeads = meta['llama.attention.head_count_kv'] === undefined ? heads : num('llama.attention.head_count_kv')
  const infos = new Map(parsed.tensorInfos.map(t => [t.name, t]))
  const config: TransformerConfig = {
    kind: 'transformer', vocab: (meta['tokenizer.ggml.tokens'] as string[]).length, dModel: num('llama.embedding_length'), layers: num('llama.block_count'), heads,
    hidden: num('llama.feed_forward_length'), context: num('llama.context_length'), tiedEmbeddings: !infos.has('output.weight'),
    normEps: num('llama.attention.layer_norm_rms_epsilon'), ropeTheta: typeof meta['llama.rope.freq_base'] === 'number' ? meta['llama.rope.freq_base'] : 10000,
    ...groupedQuery(heads, kvHeads, params.file)
  }
  if (meta['llama.rope.dimension_count'] !== undefined && num('llama.rope.dimension_count') !== config.dModel / heads) throw new ImportError(`${params.file} rotates ${num('llama.rope.dimension_count')} of each head's ${config.dModel / heads} dimensions: only full RoPE imports`)

  // Every tensor, read from its offset, converted to F32 and put back in Commons' layout.
  const file = await open(params.file, 'r')
  const tensors = new Map<string, Tensor>()
  try {
    for (const entry of llamaNames(config)) {
      const { gguf: name, commons } = entry
      const info = infos.get(name)
      if (info === undefined) throw new ImportError(`${params.file} lacks the tensor ${name}`)
      const dims = info.shape.map(Number)
      const count = dims.reduce((a, b) => a * b, 1)
      const type = Number(info.dtype)
      if (type !== GGML_TYPE.F32 && type !== GGML_TYPE.F16) throw new ImportError(`${name} is quantized (ggml type ${type}): only F32 and F16 import`, { hint: 'convert the model to F16 or F32 first' })
      const bytes = Buffer.alloc(count * (type === GGML_TYPE.F32 ? 4 : 2))
      await file.read(bytes, 0, bytes.length, Number(parsed.tensorDataOffset + info.offset))
      const values = type === GGML_TYPE.F32 ? Float32Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, count)) : f16Values(bytes)
      tensors.set(commons, fromLlama(entry, dims, values))
    }
  } finally {
    await file.close()
  }
  const text = (key: string): string | undefined => typeof meta[key] === 'string' ? meta[key] : undefined
  const exportedRecipe = text('commons.recipe')
  return writeImported({
    source: basename(params.file), out: params.out, config, tensors, tokenizer,
    ...(exportedRecipe === undefined ? {} : {
      exported: {
        recipe: JSON.parse(exportedRecipe) as Record<string, unknown>,
        provenance: { stateRoot: text('commons.state_root'), transcriptRoot: text('commons.transcript_root'), tokensRoot: text('commons.tokens_root'), dataset: text('commons.dataset_cid'), jobId: text('commons.job_id') }
      }
    })
  })
}
