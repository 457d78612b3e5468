import type { Tensor, TransformerConfig } from '@commons/engine'
import { GGML_TYPE, type GgufTensor, type GgufValue } from './gguf.ts'
import { toF16Bytes } from './half.ts'

/**
 * Commons transformer parameters in llama.cpp's "llama" layout. Commons stores matrices
 * [in, out] (x·W); llama.cpp, like PyTorch, wants [out, in] rows (GGUF dims [in, out]).
 * Commons rotates the two halves of each head (HF's rotate_half); llama.cpp's llama rotates
 * adjacent pairs, so Q and K rows are interleaved per head, as HF's converter does.
 */

export type ExportDtype = 'f32' | 'f16'

/** [rows, cols] row-major → [cols, rows] row-major. */
export function transpose (data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]
  return out
}

/** Rows [out, in] of a Q or K matrix, reordered from halves to pairs within each head. */
function interleaveHeads (rows: Float32Array, heads: number, width: number): Float32Array {
  const dh = rows.length / width / heads
  const half = dh / 2
  const out = new Float32Array(rows.length)
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < half; i++) {
        const from = (h * dh + s * half + i) * width
        const to = (h * dh + i * 2 + s) * width
        out.set(rows.subarray(from, from + width), to)
      }
    }
  }
  return out
}

const bytesOf = (values: Float32Array, type: GgufTensor['type']): Uint8Array =>
  type === GGML_TYPE.F16 ? toF16Bytes(values) : new Uint8Array(values.buffer, values.byteOffset, values.byteLength)

/**
 * The GGUF tensors of a transformer, by llama.cpp name. Vectors (norm gains) stay F32, as
 * llama.cpp's own converter keeps them; matrices take `dtype`.
 */
export function llamaTensors (config: TransformerConfig, param: (name: string) => Tensor, dtype: ExportDtype): GgufTensor[] {
  const matrixType = dtype === 'f16' ? GGML_TYPE.F16 : GGML_TYPE.F32
  const vector = (name: string, from: string): GgufTensor => {
    const t = param(from)
    return { name, dims: [t.shape[0]], type: GGML_TYPE.F32, data: bytesOf(t.f32, GGML_TYPE.F32) }
  }
  /** An [in, out] Commons matrix as llama.cpp's [out, in] rows; `heads` interleaves Q/K. */
  const matrix = (name: string, from: string, heads?: number): GgufTensor => {
    const t = param(from)
    const [inDim, outDim] = t.shape
    let rows = transpose(t.f32, inDim, outDim)
    if (heads !== undefined) rows = interleaveHeads(rows, heads, inDim)
    return { name, dims: [inDim, outDim], type: matrixType, data: bytesOf(rows, matrixType) }
  }
  const embed = param('embed')
  // The embedding is already [vocab, d] rows: one row per token, as llama.cpp reads it.
  const tensors: GgufTensor[] = [{ name: 'token_embd.weight', dims: [embed.shape[1], embed.shape[0]], type: matrixType, data: bytesOf(embed.f32, matrixType) }]
  for (let l = 0; l < config.layers; l++) {
    const p = `layers.${l}`
    const b = `blk.${l}`
    tensors.push(
      vector(`${b}.attn_norm.weight`, `${p}.attn_norm`),
      matrix(`${b}.attn_q.weight`, `${p}.wq`, config.heads),
      matrix(`${b}.attn_k.weight`, `${p}.wk`, config.heads),
      matrix(`${b}.attn_v.weight`, `${p}.wv`),
      matrix(`${b}.attn_output.weight`, `${p}.wo`),
      vector(`${b}.ffn_norm.weight`, `${p}.mlp_norm`),
      matrix(`${b}.ffn_gate.weight`, `${p}.w1`),
      matrix(`${b}.ffn_up.weight`, `${p}.w3`),
      matrix(`${b}.ffn_down.weight`, `${p}.w2`)
    )
  }
  tensors.push(vector('output_norm.weight', 'final_norm'))
  // Tied embeddings: llama.cpp reuses token_embd.weight when output.weight is absent.
  if (!config.tiedEmbeddings) tensors.push(matrix('output.weight', 'head'))
  return tensors
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
    ['llama.attention.head_count_kv', u32(config.heads)],
    ['llama.rope.dimension_count', u32(config.dModel / config.heads)],
    ['llama.rope.freq_base', { type: 'f32', value: config.ropeTheta }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: config.normEps }]
  ]
}
