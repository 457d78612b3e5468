import { readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { readSafetensors, Tensor, type TransformerConfig } from '@commons/engine'
import { parseTokenizerJson } from '@commons/tokenizer'
import { hfNames } from './exportHf.ts'
import { groupedQuery, ImportError, writeImported, type ImportedModel } from './importedModel.ts'
import { transpose } from './llamaLayout.ts'
import type { Provenance } from './trainedRun.ts'

export interface ImportHfParameters {
  /** A Hugging Face LlamaForCausalLM folder: config.json, model.safetensors (F32, F16 or BF16), tokenizer.json. */
  dir: string
  out: string
}

/** config.json read for what the engine's transformer needs; anything it cannot run is refused by name. */
function configOf (json: Record<string, unknown>, source: string): TransformerConfig {
  const architectures = json.architectures as string[] | undefined
  if (json.model_type !== 'llama' && !(architectures ?? []).includes('LlamaForCausalLM')) throw new ImportError(`${source} is not a LlamaForCausalLM`)
  const num = (key: string, fallback?: number): number => {
    const v = json[key] ?? fallback
    if (typeof v !== 'number') throw new ImportError(`${source} lacks ${key}`)
    return v
  }
  const heads = num('num_attention_heads')
  const dModel = num('hidden_size')
  if (num('head_dim', dModel / heads) !== dModel / heads) throw new ImportError(`${source}: head_dim ${num('head_dim')} is not hidden_size / heads`)
  if (json.hidden_act !== undefined && json.hidden_act !== 'silu') throw new ImportError(`${source}: activation ${String(json.hidden_act)}, the engine's MLP is SwiGLU (silu)`)
  if (json.rope_scaling !== undefined && json.rope_scaling !== null) throw new ImportError(`${source}: RoPE scaling is not supported`)
  return {
    kind: 'transformer', vocab: num('vocab_size'), dModel, layers: num('num_hidden_layers'), heads, hidden: num('intermediate_size'),
    context: num('max_position_embeddings'), tiedEmbeddings: json.tie_word_embeddings === true, normEps: num('rms_norm_eps'), ropeTheta: num('rope_theta', 10000),
    ...groupedQuery(heads, num('num_key_value_heads', heads), source)
  }
}

/**
 * Imports a Hugging Face LlamaForCausalLM folder (F32, F16 or BF16 weights, a byte-level BPE
 * tokenizer.json: GPT-2's or Llama 3's split, any token order, special tokens) as Commons weights, like importGguf.
 */
export async function importHf (params: ImportHfParameters): Promise<ImportedModel> {
  const read = async (name: string): Promise<string> => readFile(join(params.dir, name), 'utf8').catch((cause: unknown) => {
    throw new ImportError(`${params.dir} has no readable ${name}`, { hint: 'pass a Hugging Face model folder (config.json, model.safetensors, tokenizer.json)', cause })
  })
  const json = JSON.parse(await read('config.json')) as Record<string, unknown>
  const config = configOf(json, join(params.dir, 'config.json'))
  const tokenizer = parseTokenizerJson(JSON.parse(await read('tokenizer.json')), join(params.dir, 'tokenizer.json'))
  const { tensors: hf } = await readSafetensors(join(params.dir, 'model.safetensors'))
  const tensors = new Map<string, Tensor>()
  for (const { hf: name, commons, linear } of hfNames(config)) {
    const t = hf.get(name)
    if (t === undefined) throw new ImportError(`${params.dir}/model.safetensors lacks ${name}`)
    // nn.Linear weights are [out, in]; Commons multiplies x·W with W [in, out].
    tensors.set(commons, linear ? new Tensor([t.shape[1], t.shape[0]], transpose(t.f32, t.shape[0], t.shape[1])) : t)
  }
  const commons = json.commons as (Partial<Provenance> & { recipe?: string }) | undefined
  return writeImported({
    source: basename(params.dir), out: params.out, config, tensors, tokenizer,
    ...(commons?.recipe === undefined ? {} : { exported: { recipe: JSON.parse(commons.recipe) as Record<string, unknown>, provenance: commons } })
  })
}
