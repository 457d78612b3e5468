import { kvHeadsOf, ops, referenceContext, Tensor, type TransformerConfig } from '@commons/engine'
import { GGML_TYPE, type GgufTensor, type GgufValue } from './gguf.ts'
import { toF16Bytes } from './half.ts'

/**
 * Commons transformer parameters in llama.cpp's "llama" layout. Commons stores matrices
 * [in, out] (x·W); llama.cpp, like PyTorch, wants [out, in] rows (GGUF dims [in, out]).
 * Commons rotates the two halves of each head (HF's rotate_half); llama.cpp's llama rotates
 * adjacent pairs, so Q and K rows are interleaved per head, as HF's converter does.
 */

export type ExportDtype = 'f32' | 'f16'

/** [rows, cols] row-major → [cols, rows] row-major (the engine's permute). */
export function transpose (data: Float32Array, rows: number, cols: number): Float32Array {
  return ops.permute(referenceContext(), new Tensor([rows, cols], data), [1, 0]).f32
}

/** Rows [out, in] of a Q or K matrix, reordered between halves (Commons) and pairs (llama.cpp) within each head. */
function reorderHeads (rows: Float32Array, heads: number, width: number, toPairs: boolean): Float32Array {
  const dh = rows.length / width / heads
  const half = dh / 2
  const out = new Float32Array(rows.length)
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < half; i++) {
        const halves = (h * dh + s * half + i) * width
        const pairs = (h * dh + i * 2 + s) * width
        const [from, to] = toPairs ? [halves, pairs] : [pairs, halves]
        out.set(rows.subarray(from, from + width), to)
      }
    }
  }
  return out
}

const bytesOf = (values: Float32Array, type: GgufTensor['type']): Uint8Array =>
  type === GGML_TYPE.F16 ? toF16Bytes(values) : new Uint8Array(values.buffer, values.byteOffset, values.byteLength)

/** How a Commons parameter sits in GGUF: a vector, the embedding's rows, a matrix, or Q/K (a matrix with heads reordered). */
export type LlamaKind = 'vector' | 'rows' | 'matrix' | 'heads'

/** One tensor of the llama layout; `heads` for Q (query heads) and K (key/value heads). */
export interface LlamaName { gguf: string, commons: string, kind: LlamaKind, heads?: number }

/** Every tensor of the llama layout: its GGUF name, its Commons name, and how it is laid out. */
export function llamaNames (config: TransformerConfig): LlamaName[] {
  const names: LlamaName[] = [{ gguf: 'token_embd.weight', commons: 'embed', kind: 'rows' }]
  for (let l = 0; l < config.layers; l++) {
    const [b, p] = [`blk.${l}`, `layers.${l}`]
    names.push(
      { gguf: `${b}.attn_norm.weight`, commons: `${p}.attn_norm`, kind: 'vector' },
      { gguf: `${b}.attn_q.weight`, commons: `${p}.wq`, kind: 'heads', heads: config.heads },
      { gguf: `${b}.attn_k.weight`, commons: `${p}.wk`, kind: 'heads', heads: kvHeadsOf(config) },
      { gguf: `${b}.attn_v.weight`, commons: `${p}.wv`, kind: 'matrix' },
      { gguf: `${b}.attn_output.weight`, commons: `${p}.wo`, kind: 'matrix' },
      { gguf: `${b}.ffn_norm.weight`, commons: `${p}.mlp_norm`, kind: 'vector' },
      { gguf: `${b}.ffn_gate.weight`, commons: `${p}.w1`, kind: 'matrix' },
      { gguf: `${b}.ffn_up.weight`, commons: `${p}.w3`, kind: 'matrix' },
      { gguf: `${b}.ffn_down.weight`, commons: `${p}.w2`, kind: 'matrix' }
    )
  }
  names.push({ gguf: 'output_norm.weight', commons: 'final_norm', kind: 'vector' })
  // Tied embeddings: llama.cpp reuses token_embd.weight when output.weight is absent.
  if (!config.tiedEmbeddings) names.push({ gguf: 'output.weight', commons: 'head', kind: 'matrix' })
  return names
}

/**
 * The GGUF tensors of a transformer, by llama.cpp name. Vectors (norm gains) stay F32, as
 * llama.cpp's own converter keeps them; matrices take `dtype`.
 */
export function llamaTensors (config: TransformerConfig, param: (name: string) => Tensor, dtype: ExportDtype): GgufTensor[] {
  return llamaNames(config).map(({ gguf, commons, kind, heads }) => {
    const t = param(commons)
    const type = kind === 'vector' ? GGML_TYPE.F32 : dtype === 'f16' ? GGML_TYPE.F16 : GGML_TYPE.F32
    if (kind === 'vector' || kind === 'rows') return { name: gguf, dims: [...t.shape].reverse(), type, data: bytesOf(t.f32, type) }
    // An [in, out] Commons matrix as llama.cpp's [out, in] rows.
    const [inDim, outDim] = t.shape
    let rows = transpose(t.f32, inDim, outDim)
    if (heads !== undefined) rows = reorderHeads(rows, heads, inDim, true)
    return { name: gguf, dims: [inDim, outDim], type, data: bytesOf(rows, type) }
  })
}

/** A Commons parameter from a GGUF tensor's values (already F32), undoing llamaTensors. */
export function fromLlama ({ kind, heads }: LlamaName, dims: readonly number[], values: Float32Array): Tensor {
  if (kind === 'vector' || kind === 'rows') return new Tensor([...dims].reverse(), values)
  const [inDim, outDim] = dims
  const rows = heads !== undefined ? reorderHeads(values, heads, inDim, false) : values
  return new Tensor([inDim, outDim], transpose(rows, outDim, inDim))
}

/** The llama.* hyperparameters llama.cpp requires to build the graph. */
export function llamaMetadata (config: TransformerConfig): Array<[string, GgufValue]> {
  const u32 = (value: number): GgufValue => ({ type: 'u32', value })
  return [
    ['llama.vocab_size', u32(config.vocab)],
    ['llama.context_length', u32(config.context)],
    ['llama.embedding_length', u32(config.dModel)],
    ['llama.block_count', u32(config.layers)],
    ['llama.feed_forward_length', u32(config.hidden)],
    ['llama.attention.head_count', u32(config.heads)],
    ['llama.attention.head_count_kv', u32(kvHeadsOf(config))],
    ['llama.rope.dimension_count', u32(config.dModel / config.heads)],
    ['llama.rope.freq_base', { type: 'f32', value: config.ropeTheta }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: config.normEps }]
  ]
}
