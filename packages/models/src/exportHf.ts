import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import { encodeSafetensors, kvHeadsOf, Tensor, type TransformerConfig } from '@commons/engine'
import { transpose } from './llamaLayout.ts'
import { tokenizerJson } from '@commons/tokenizer'
import { BYTE_EOS, readTrainedRun, type Provenance, type TrainedRun } from './trainedRun.ts'

export interface ExportHfParameters {
  /** A run directory (commons train --out, or a node's published run). */
  run: string
  /** The folder to write (made if missing): what `from_pretrained` loads. */
  out: string
  jobId?: string
}

export interface ExportHfReturnType {
  path: string
  files: string[]
  tensors: number
  bytes: number
  provenance: Provenance
}

/** Every weight's Hugging Face name, its Commons name, and whether it is an nn.Linear ([out, in], transposed from Commons' [in, out]). */
export function hfNames (config: TransformerConfig): Array<{ hf: string, commons: string, linear: boolean }> {
  const names = [{ hf: 'model.embed_tokens.weight', commons: 'embed', linear: false }]
  for (let l = 0; l < config.layers; l++) {
    const [m, p] = [`model.layers.${l}`, `layers.${l}`]
    names.push(
      { hf: `${m}.input_layernorm.weight`, commons: `${p}.attn_norm`, linear: false },
      { hf: `${m}.self_attn.q_proj.weight`, commons: `${p}.wq`, linear: true },
      { hf: `${m}.self_attn.k_proj.weight`, commons: `${p}.wk`, linear: true },
      { hf: `${m}.self_attn.v_proj.weight`, commons: `${p}.wv`, linear: true },
      { hf: `${m}.self_attn.o_proj.weight`, commons: `${p}.wo`, linear: true },
      { hf: `${m}.post_attention_layernorm.weight`, commons: `${p}.mlp_norm`, linear: false },
      { hf: `${m}.mlp.gate_proj.weight`, commons: `${p}.w1`, linear: true },
      { hf: `${m}.mlp.up_proj.weight`, commons: `${p}.w3`, linear: true },
      { hf: `${m}.mlp.down_proj.weight`, commons: `${p}.w2`, linear: true }
    )
  }
  names.push({ hf: 'model.norm.weight', commons: 'final_norm', linear: false })
  if (!config.tiedEmbeddings) names.push({ hf: 'lm_head.weight', commons: 'head', linear: true })
  return names
}

/**
 * The weights in Hugging Face's LlamaForCausalLM names and [out, in] layout. Commons'
 * RoPE is already HF's rotate_half, so Q and K need no reordering (unlike GGUF).
 */
export function hfTensors (config: TransformerConfig, param: TrainedRun['param']): Array<[string, Tensor]> {
  return hfNames(config).map(({ hf, commons, linear }) => {
    const t = param(commons)
    return [hf, linear ? new Tensor([t.shape[1], t.shape[0]], transpose(t.f32, t.shape[0], t.shape[1])) : t]
  })
}

/** config.json of LlamaForCausalLM, with the run's provenance under "commons". */
export function hfConfig (config: TransformerConfig, provenance: Provenance): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: config.vocab,
    hidden_size: config.dModel,
    intermediate_size: config.hidden,
    num_hidden_layers: config.layers,
    num_attention_heads: config.heads,
    num_key_value_heads: kvHeadsOf(config),
    head_dim: config.dModel / config.heads,
    max_position_embeddings: config.context,
    rms_norm_eps: config.normEps,
    rope_theta: config.ropeTheta,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: config.tiedEmbeddings,
    torch_dtype: 'float32',
    bos_token_id: null,
    eos_token_id: BYTE_EOS,
    commons: provenance
  }
}

function modelCard (recipe: TrainedRun['recipe'], provenance: Provenance): string {
  return [
    '---', 'library_name: transformers', 'tags: [commons, llama]', '---', '',
    `# ${recipe.name}`, '',
    'Trained on Commons: every step of its training is committed on-chain and can be replayed.', '',
    '| | |', '| --- | --- |',
    ...Object.entries(provenance).filter(([k]) => k !== 'recipe').map(([k, v]) => `| ${k} | \`${String(v)}\` |`),
    '', 'The recipe (config.json "commons.recipe") and the dataset make the run reproducible bit for bit.', ''
  ].join('\n')
}

/**
 * Exports a trained transformer as a Hugging Face folder that transformers loads as it
 * is: config.json (LlamaForCausalLM), model.safetensors, generation_config.json,
 * tokenizer.json and tokenizer_config.json, and a README with the provenance.
 */
export async function exportHf (params: ExportHfParameters): Promise<ExportHfReturnType> {
  const { recipe, config, param, provenance, tokenizer } = await readTrainedRun(params.run, params.jobId)
  await mkdir(params.out, { recursive: true })
  const tensors = hfTensors(config, param)
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value, null, 2) + '\n')
  const files: Array<[string, Buffer]> = [
    ['model.safetensors', encodeSafetensors(tensors, { format: 'pt' })],
    ['config.json', json(hfConfig(config, provenance))],
    ['generation_config.json', json({ bos_token_id: null, eos_token_id: BYTE_EOS, do_sample: false, max_length: config.context })],
    ['tokenizer.json', json(tokenizerJson(tokenizer))],
    ['tokenizer_config.json', json({ tokenizer_class: 'PreTrainedTokenizerFast', add_bos_token: false, add_eos_token: false, model_max_length: config.context, clean_up_tokenization_spaces: false })],
    ['README.md', Buffer.from(modelCard(recipe, provenance))]
  ]
  let bytes = 0
  for (const [name, data] of files) {
    await writeFileAtomic(join(params.out, name), data)
    bytes += data.length
  }
  return { path: params.out, files: files.map(([name]) => name), tensors: tensors.length, bytes, provenance }
}
