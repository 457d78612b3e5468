import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Tokenizer } from '@huggingface/tokenizers'
import { constant, forward, makeTables, paramSpecs, parseRecipe, readSafetensors, Tensor, train, type Recipe, type TransformerConfig, referenceContext } from '@commons/engine'
import { exportHf } from './exportHf.ts'
import { importHf } from './importHf.ts'

/**
 * A Hugging Face export is checked from its files alone: a forward pass written here from
 * the LlamaForCausalLM definition (float64, HF names, [out, in] layout, rotate_half RoPE)
 * reads config.json and model.safetensors and must give the engine's logits; HF's own
 * tokenizer library must read tokenizer.json as the byte tokenizer.
 */

const root = join(import.meta.dirname, '..', '..', '..')
let dir: string
let run: string
let recipe: Recipe
/** The same with grouped-query attention: 4 query heads on 2 key/value heads. */
let gqaRun: string
let gqaRecipe: Recipe
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'commons-hf-'))
  const tiny = JSON.parse(await readFile(join(root, 'recipes', 'tiny.json'), 'utf8')) as Recipe
  recipe = parseRecipe({ ...tiny, steps: 20, checkpointInterval: 20, model: { ...tiny.model, heads: 4 } })
  gqaRecipe = parseRecipe({ ...tiny, steps: 20, checkpointInterval: 20, model: { ...tiny.model, heads: 4, kvHeads: 2 } })
  run = join(dir, 'run')
  gqaRun = join(dir, 'gqa-run')
  const text = await readFile(join(root, 'README.md'))
  await train(referenceContext(), { recipe, tokens: Int32Array.from(text), data: { source: 'README.md' }, out: run })
  await train(referenceContext(), { recipe: gqaRecipe, tokens: Int32Array.from(text), data: { source: 'README.md' }, out: gqaRun })
})
after(async () => { await rm(dir, { recursive: true, force: true }) })

interface HfConfig {
  hidden_size: number, intermediate_size: number, num_hidden_layers: number, num_attention_heads: number, num_key_value_heads: number, head_dim: number
  rms_norm_eps: number, rope_theta: number, vocab_size: number, tie_word_embeddings: boolean, commons: { stateRoot: string }
}

/** safetensors read by hand (8-byte length, JSON header, F32 data): no engine code. */
function readWeights (bytes: Buffer): Map<string, { shape: number[], data: Float32Array }> {
  const length = Number(bytes.readBigUInt64LE(0))
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString()) as Record<string, { dtype: string, shape: number[], data_offsets: [number, number] }>
  const out = new Map<string, { shape: number[], data: Float32Array }>()
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue
    assert.equal(t.dtype, 'F32')
    const start = 8 + length + t.data_offsets[0]
    out.set(name, { shape: t.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + 8 + length + t.data_offsets[1])) })
  }
  return out
}

function argmax (xs: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i
  return best
}

/** LlamaForCausalLM's forward pass in float64: logits [T][V] for token ids. */
function llamaForward (c: HfConfig, w: ReturnType<typeof readWeights>, ids: number[]): number[][] {
  const get = (name: string): Float32Array => {
    const t = w.get(name)
    assert.ok(t !== undefined, `model.safetensors has ${name}`)
    return t.data
  }
  const d = c.hidden_size
  const dh = c.head_dim
  const half = dh / 2
  /** y = W x for W [out, in] (nn.Linear). */
  const linear = (W: Float32Array, x: number[]): number[] => {
    const n = x.length
    return Array.from({ length: W.length / n }, (_, o) => x.reduce((s, xi, i) => s + W[o * n + i] * xi, 0))
  }
  const rmsNorm = (x: number[], g: Float32Array): number[] => {
    const r = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length + c.rms_norm_eps)
    return x.map((v, i) => v * r * g[i])
  }
  const rope = (v: number[], pos: number): number[] => {
    const out = v.slice()
    for (let h = 0; h < v.length / dh; h++) {
      for (let i = 0; i < half; i++) {
        const angle = pos / c.rope_theta ** ((2 * i) / dh)
        const a = v[h * dh + i]
        const b = v[h * dh + i + half]
        out[h * dh + i] = a * Math.cos(angle) - b * Math.sin(angle)
        out[h * dh + i + half] = b * Math.cos(angle) + a * Math.sin(angle)
      }
    }
    return out
  }
  const embed = get('model.embed_tokens.weight')
  let x = ids.map(id => Array.from(embed.subarray(id * d, (id + 1) * d), Number))
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`
    const h = x.map(row => rmsNorm(row, get(`${p}.input_layernorm.weight`)))
    const q = h.map((row, t) => rope(linear(get(`${p}.self_attn.q_proj.weight`), row), t))
    const k = h.map((row, t) => rope(linear(get(`${p}.self_attn.k_proj.weight`), row), t))
    const v = h.map(row => linear(get(`${p}.self_attn.v_proj.weight`), row))
    const attn = q.map((qt, t) => {
      const out = new Array<number>(d).fill(0)
      for (let head = 0; head < c.num_attention_heads; head++) {
        const o = head * dh
        // transformers' repeat_kv: query head `head` reads key/value head ⌊head / group⌋.
        const kv = Math.floor(head / (c.num_attention_heads / c.num_key_value_heads)) * dh
        const scores = k.slice(0, t + 1).map(ks => qt.slice(o, o + dh).reduce((s, qi, i) => s + qi * ks[kv + i], 0) / Math.sqrt(dh))
        const max = Math.max(...scores)
        const e = scores.map(s => Math.exp(s - max))
        const total = e.reduce((a, b) => a + b, 0)
        e.forEach((p, j) => { for (let i = 0; i < dh; i++) out[o + i] += (p / total) * v[j][kv + i] })
      }
      return out
    })
    x = x.map((row, t) => linear(get(`${p}.self_attn.o_proj.weight`), attn[t]).map((y, i) => row[i] + y))
    x = x.map(row => {
      const m = rmsNorm(row, get(`${p}.post_attention_layernorm.weight`))
      const gate = linear(get(`${p}.mlp.gate_proj.weight`), m)
      const up = linear(get(`${p}.mlp.up_proj.weight`), m)
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i])
      return linear(get(`${p}.mlp.down_proj.weight`), act).map((y, i) => row[i] + y)
    })
  }
  const head = c.tie_word_embeddings ? embed : get('lm_head.weight')
  return x.map(row => linear(head, rmsNorm(row, get('model.norm.weight'))))
}

describe('Hugging Face export', () => {
  for (const name of ['multi-head', 'grouped-query']) it(`gives, from its files alone, the logits the engine computes (${name})`, async () => {
    const [source, sourceRecipe] = name === 'multi-head' ? [run, recipe] : [gqaRun, gqaRecipe]
    const out = join(dir, `hf-${name}`)
    const result = await exportHf({ run: source, out })
    assert.deepEqual(result.files.sort(), ['README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'])
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as HfConfig & { architectures: string[] }
    assert.deepEqual(config.architectures, ['LlamaForCausalLM'])
    const transcript = JSON.parse(await readFile(join(source, 'transcript.json'), 'utf8')) as { finalRoot: string }
    assert.equal(config.commons.stateRoot, transcript.finalRoot)

    const ids = [...Buffer.from('Commons: open data, open models.')]
    const theirs = llamaForward(config, readWeights(await readFile(join(out, 'model.safetensors'))), ids)

    const { tensors } = await readSafetensors(join(source, 'model.safetensors'))
    const model = sourceRecipe.model as TransformerConfig
    const params = paramSpecs(model).map(spec => constant(tensors.get(spec.name) as Tensor))
    const logits = forward(referenceContext(), model, params, new Tensor([1, ids.length], Int32Array.from(ids)), makeTables(model, ids.length)).value.f32
    let worst = 0
    for (let t = 0; t < ids.length; t++) {
      const row = logits.subarray(t * model.vocab, (t + 1) * model.vocab)
      for (let v = 0; v < model.vocab; v++) worst = Math.max(worst, Math.abs(row[v] - theirs[t][v]))
      assert.equal(argmax(row), argmax(theirs[t]), `position ${t}: the same next token`)
    }
    assert.ok(worst < 1e-3, `logits agree to float32 rounding (worst difference ${worst})`)
  })

  it('comes back by import as the same weights: exported again, the same files', async () => {
    const first = join(dir, 'hf-first')
    await exportHf({ run, out: first })
    const imported = await importHf({ dir: first, out: join(dir, 'hf-imported') })
    const transcript = JSON.parse(await readFile(join(run, 'transcript.json'), 'utf8')) as { finalRoot: string }
    assert.equal(imported.stateRoot, transcript.finalRoot)
    const again = join(dir, 'hf-again')
    const result = await exportHf({ run: imported.dir, out: again })
    for (const file of result.files) assert.ok((await readFile(join(again, file))).equals(await readFile(join(first, file))), file)
  })

  it('imports F16 weights, as most published models ship them, widened exactly', async () => {
    const folder = join(dir, 'hf-f16')
    await exportHf({ run, out: folder })
    // Rewrite model.safetensors in F16, as transformers' save_pretrained(torch_dtype=float16) would.
    const bytes = await readFile(join(folder, 'model.safetensors'))
    const length = Number(bytes.readBigUInt64LE(0))
    const header = JSON.parse(bytes.subarray(8, 8 + length).toString()) as Record<string, { dtype: string, shape: number[], data_offsets: [number, number] }>
    const parts: Buffer[] = []
    let offset = 0
    for (const [name, t] of Object.entries(header)) {
      if (name === '__metadata__') continue
      const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + length + t.data_offsets[0], bytes.byteOffset + 8 + length + t.data_offsets[1]))
      const half = Buffer.from(new Uint16Array(new Float16Array(values).buffer).buffer)
      header[name] = { dtype: 'F16', shape: t.shape, data_offsets: [offset, offset + half.length] }
      offset += half.length
      parts.push(half)
    }
    const json = Buffer.from(JSON.stringify(header))
    const prefix = Buffer.alloc(8)
    prefix.writeBigUInt64LE(BigInt(json.length))
    await writeFile(join(folder, 'model.safetensors'), Buffer.concat([prefix, json, ...parts]))
    const imported = await importHf({ dir: folder, out: join(dir, 'hf-f16-imported') })
    const { tensors } = await readSafetensors(join(imported.dir, 'model.safetensors'))
    const { tensors: original } = await readSafetensors(join(run, 'model.safetensors'))
    for (const [name, t] of original) assert.deepEqual(tensors.get(name)?.f32, Float32Array.from(new Float16Array(t.f32)), name)
  })

  it('ships a tokenizer.json that Hugging Face tokenizers reads as the byte tokenizer', async () => {
    const out = join(dir, 'hf-tokenizer')
    await exportHf({ run, out })
    const tokenizer = new Tokenizer(JSON.parse(await readFile(join(out, 'tokenizer.json'), 'utf8')), JSON.parse(await readFile(join(out, 'tokenizer_config.json'), 'utf8')))
    for (const text of ['the cat sat', '  two  spaces\nand\ttabs', 'café, naïve — ✓ 🚀', '{"text": "x"}']) {
      const ids = tokenizer.encode(text).ids
      assert.deepEqual(ids, [...Buffer.from(text, 'utf8')], text)
      assert.equal(tokenizer.decode(ids), text)
    }
  })
})
