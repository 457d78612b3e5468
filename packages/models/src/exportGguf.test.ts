import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gguf } from '@huggingface/gguf'
import { generate, initParams, openBackend, paramSpecs, parseRecipe, train, type Backend, type Recipe, type TransformerConfig } from '@commons/engine'
import { BpeTokenizer, tokenizerFile, tokenizerJson, trainBpe } from '@commons/tokenizer'
import { publishedLayout } from '@commons/tokenizer/testing'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { getLlama, type Llama } from 'node-llama-cpp'
import { encodeLlamaGguf, exportGguf } from './exportGguf.ts'
import { importGguf } from './importGguf.ts'
import { ExportError } from './trainedRun.ts'

/**
 * A model exported to GGUF runs in llama.cpp (through node-llama-cpp) and continues a
 * prompt greedily with the same tokens as `commons generate`: the layout, the RoPE
 * interleaving and the byte vocabulary are what llama.cpp expects.
 */

const root = join(import.meta.dirname, '..', '..', '..')
const sentences = ['the cat sat on the mat. ', 'a dog ran in the park. ', 'we train models together. ', 'every step is checked. ']
// Every rotation of four sentences, repeated: a small model learns it in ~100 steps.
const corpus = sentences.map((_, i) => [...sentences.slice(i), ...sentences.slice(0, i)].join('')).join('').repeat(40)

async function trainRun (dir: string, overrides: { steps: number, tiedEmbeddings: boolean, heads?: number, kvHeads?: number, name?: string }): Promise<string> {
  const tiny = JSON.parse(await readFile(join(root, 'recipes', 'tiny.json'), 'utf8')) as Recipe
  const recipe = parseRecipe({
    ...tiny,
    steps: overrides.steps,
    checkpointInterval: overrides.steps,
    batchSize: 4,
    model: { ...tiny.model, context: 96, tiedEmbeddings: overrides.tiedEmbeddings, ...(overrides.kvHeads === undefined ? {} : { heads: overrides.heads, kvHeads: overrides.kvHeads }) },
    optimizer: { ...tiny.optimizer, lr: 0.02, warmupSteps: 5 }
  })
  const out = join(dir, overrides.name ?? (overrides.tiedEmbeddings ? 'tied' : 'run'))
  await train(backend.ctx, { recipe, tokens: Int32Array.from(Buffer.from(corpus)), data: { source: 'bafyreiexamplecorpus' }, out })
  return out
}

let dir: string
let llama: Llama
// The fastest backend this machine has: every backend gives the same bits.
let backend: Backend
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'commons-export-'))
  backend = openBackend('auto')
  llama = await getLlama({ gpu: false, logLevel: 'error' as never })
})
after(async () => {
  await llama?.dispose()
  await backend?.close()
  await rm(dir, { recursive: true, force: true })
})

/** llama.cpp's greedy continuation of `prompt`, tokenized by llama.cpp from the GGUF's vocabulary. */
async function llamaCppContinuation (path: string, prompt: string, tokens: number): Promise<{ promptTokens: number[], tokens: number[] }> {
  const model = await llama.loadModel({ modelPath: path })
  try {
    // One thread: llama.cpp's threads spin while they wait, and its default (4 here) on a
    // machine with fewer free cores took 15 s for these 64 tokens instead of 30 ms.
    const context = await model.createContext({ contextSize: 96, threads: 1 })
    const promptTokens = model.tokenize(prompt).map(Number)
    const out: number[] = []
    for await (const token of context.getSequence().evaluate(model.tokenize(prompt), { temperature: 0 })) {
      out.push(Number(token))
      if (out.length === tokens) break
    }
    await context.dispose()
    return { promptTokens, tokens: out }
  } finally {
    await model.dispose()
  }
}

describe('GGUF export', () => {
  it('gives llama.cpp the same 64 greedy tokens as commons generate, with the provenance in the file', async () => {
    const run = await trainRun(dir, { steps: 120, tiedEmbeddings: false })
    const result = await exportGguf({ run, out: join(dir, 'model.gguf'), jobId: '7' })
    const prompt = 'the cat'
    const ours = await generate(backend.ctx, run, prompt, { tokens: 64 })
    assert.match(ours.text, /sat on the mat/, 'the model learned its corpus (else equal tokens would prove little)')
    const theirs = await llamaCppContinuation(result.path, prompt, 64)
    assert.deepEqual(theirs.promptTokens, [...Buffer.from(prompt)], 'llama.cpp tokenizes text to the bytes Commons trains on')
    assert.deepEqual(theirs.tokens, ours.tokens)

    const { metadata: parsed, tensorInfos } = await gguf(result.path, { allowLocalFile: true })
    const metadata = parsed as unknown as Record<string, unknown>
    const info = JSON.parse(await readFile(join(run, 'transcript.json'), 'utf8')) as { finalRoot: string, transcriptRoot: string }
    assert.equal(metadata['commons.state_root'], info.finalRoot)
    assert.equal(metadata['commons.transcript_root'], info.transcriptRoot)
    assert.equal(metadata['commons.dataset_cid'], 'bafyreiexamplecorpus')
    assert.equal(metadata['commons.job_id'], '7')
    assert.equal(tensorInfos.length, result.tensors)
    assert.match(await readFile(result.modelfile, 'utf8'), /^FROM \.\/model\.gguf$/m)

    // Round trip: imported back, it generates the same tokens and exports to the same file.
    const imported = await importGguf({ file: result.path, out: join(dir, 'imported') })
    assert.equal(imported.stateRoot, info.finalRoot)
    assert.deepEqual((await generate(backend.ctx, imported.dir, prompt, { tokens: 64 })).tokens, ours.tokens)
    const again = await exportGguf({ run: imported.dir, out: join(dir, 'again.gguf') })
    assert.ok((await readFile(again.path)).equals(await readFile(result.path)), 'export → import → export gives the same bytes')
  })

  it('exports tied embeddings (llama.cpp reuses token_embd) and F16 weights that llama.cpp loads', async () => {
    const run = await trainRun(dir, { steps: 30, tiedEmbeddings: true })
    const f32 = await exportGguf({ run, out: join(dir, 'tied.gguf') })
    const ours = await generate(backend.ctx, run, 'a dog', { tokens: 64 })
    assert.deepEqual((await llamaCppContinuation(f32.path, 'a dog', 64)).tokens, ours.tokens)
    const { tensorInfos } = await gguf(f32.path, { allowLocalFile: true })
    assert.ok(!tensorInfos.some(t => t.name === 'output.weight'))

    const f16 = await exportGguf({ run, out: join(dir, 'tied-f16.gguf'), dtype: 'f16' })
    const parsed = await gguf(f16.path, { allowLocalFile: true })
    assert.equal((parsed.metadata as unknown as Record<string, unknown>)['general.file_type'], 1)
    assert.ok(parsed.tensorInfos.filter(t => t.shape.length === 2).every(t => t.dtype === 1), 'matrices are F16')
    assert.ok(parsed.tensorInfos.filter(t => t.shape.length === 1).every(t => t.dtype === 0), 'norm gains stay F32')
    assert.ok((await stat(f16.path)).size < (await stat(f32.path)).size * 0.6)
    assert.equal((await llamaCppContinuation(f16.path, 'a dog', 16)).tokens.length, 16)
  })

  it('exports grouped-query attention (4 query heads on 2 key/value heads) that llama.cpp continues alike, and imports it back', async () => {
    const run = await trainRun(dir, { steps: 160, tiedEmbeddings: false, heads: 4, kvHeads: 2, name: 'gqa' })
    const result = await exportGguf({ run, out: join(dir, 'gqa.gguf') })
    const { metadata } = await gguf(result.path, { allowLocalFile: true })
    assert.equal((metadata as unknown as Record<string, unknown>)['llama.attention.head_count_kv'], 2)
    const ours = await generate(backend.ctx, run, 'we train', { tokens: 64 })
    assert.match(ours.text, /models together/, 'the model learned its corpus')
    assert.deepEqual((await llamaCppContinuation(result.path, 'we train', 64)).tokens, ours.tokens)
    const imported = await importGguf({ file: result.path, out: join(dir, 'gqa-imported') })
    assert.equal(imported.recipe.model.kind === 'transformer' && imported.recipe.model.kvHeads, 2)
    const again = await exportGguf({ run: imported.dir, out: join(dir, 'gqa-again.gguf') })
    assert.ok((await readFile(again.path)).equals(await readFile(result.path)), 'export → import → export gives the same bytes')
  })

  it('refuses a run that is not a transformer, or not a run', async () => {
    const tiny = JSON.parse(await readFile(join(root, 'recipes', 'tiny.json'), 'utf8')) as Recipe
    const recipe = parseRecipe({ ...tiny, steps: 1, checkpointInterval: 1, model: { kind: 'mlp', vocab: 256, context: 4, dModel: 8, hidden: 8, layers: 1 } })
    const out = join(dir, 'mlp')
    await train(backend.ctx, { recipe, tokens: Int32Array.from(Buffer.from(corpus.slice(0, 2000))), data: { source: 'x' }, out })
    await assert.rejects(exportGguf({ run: out, out: join(dir, 'mlp.gguf') }), ExportError)
    await assert.rejects(exportGguf({ run: join(dir, 'nothing'), out: join(dir, 'x.gguf') }), ExportError)
  })
})

describe('a BPE tokenizer in GGUF', () => {
  it('makes a BPE model that llama.cpp, tokenizing the prompt itself, continues with the same 64 tokens', async () => {
    // The corpus is small: its BPE runs out of pairs before 320 tokens; the model takes its size.
    const bpe = trainBpe(Buffer.from(corpus), 320)
    const vocab = new BpeTokenizer(bpe).vocab
    const json = Buffer.from(JSON.stringify(tokenizerJson(bpe)))
    const cid = CID.createV1(raw.code, await sha256.digest(json)).toString()
    const tiny = JSON.parse(await readFile(join(root, 'recipes', 'tiny.json'), 'utf8')) as Recipe
    const recipe = parseRecipe({
      ...tiny, tokenizer: cid, steps: 120, checkpointInterval: 120, batchSize: 4,
      model: { ...tiny.model, vocab, context: 96 }, optimizer: { ...tiny.optimizer, lr: 0.02, warmupSteps: 5 }
    })
    const run = join(dir, 'bpe-run')
    const tokens = new BpeTokenizer(bpe).encode(Buffer.from(corpus))
    await train(backend.ctx, { recipe, tokens, tokenizerJson: json, data: { source: 'bafyreiexamplecorpus' }, out: run })
    const result = await exportGguf({ run, out: join(dir, 'bpe-model.gguf') })
    const prompt = 'a dog'
    const ours = await generate(backend.ctx, run, prompt, { tokens: 64 })
    assert.match(ours.text, /ran in the park/, 'the BPE model learned its corpus')
    const theirs = await llamaCppContinuation(result.path, prompt, 64)
    assert.deepEqual(theirs.promptTokens, [...new BpeTokenizer(bpe).encode(Buffer.from(prompt))])
    assert.deepEqual(theirs.tokens, ours.tokens)
    const imported = await importGguf({ file: result.path, out: join(dir, 'bpe-imported') })
    assert.equal(imported.tokenizer, cid, 'the vocabulary comes back as the same tokenizer.json')
    assert.ok((await readFile((await exportGguf({ run: imported.dir, out: join(dir, 'bpe-again.gguf') })).path)).equals(await readFile(result.path)))
  })

  it('makes llama.cpp tokenize text to the ids Commons gives', async () => {
    const text = Buffer.concat(await Promise.all(['README.md', 'docs/step-program.md'].map(async f => readFile(join(root, f)))))
    const bpe = trainBpe(text, 600)
    const ours = new BpeTokenizer(bpe)
    const config: TransformerConfig = { kind: 'transformer', vocab: ours.vocab, dModel: 16, layers: 1, heads: 2, hidden: 32, context: 64, tiedEmbeddings: true, normEps: 1e-5, ropeTheta: 10000 }
    const weights = new Map(initParams(config, 1).map((t, i) => [paramSpecs(config)[i].name, t]))
    const { parts } = encodeLlamaGguf({ name: 'bpe', config, param: name => weights.get(name) as never, tokenizer: bpe, dtype: 'f32' })
    const path = join(dir, 'bpe.gguf')
    await writeFile(path, Buffer.concat(parts))
    const model = await llama.loadModel({ modelPath: path, vocabOnly: true })
    try {
      const samples = ['the cat sat on the mat', "Commons' DAO can't, won't; we'll see. It's 2026!", '  two  spaces\nand\ttabs\n\n\nend   ', '{"text": "café ✓ 🚀", "n": 12345.678}', text.subarray(0, 4000).toString()]
      for (const sample of samples) assert.deepEqual(model.tokenize(sample).map(Number), [...ours.encode(Buffer.from(sample))], sample.slice(0, 40))
    } finally {
      await model.dispose()
    }
  })

  for (const pre of ['llama3', 'gpt2'] as const) it(`carries a published vocabulary (special tokens first, bytes anywhere, ${pre}'s split) that llama.cpp tokenizes alike, and imports it back`, async () => {
    const text = Buffer.concat(await Promise.all(['README.md', 'docs/step-program.md'].map(async f => readFile(join(root, f)))))
    const published = publishedLayout(trainBpe(text, 600), ['<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>'], pre)
    const ours = new BpeTokenizer(published)
    const config: TransformerConfig = { kind: 'transformer', vocab: ours.vocab, dModel: 16, layers: 1, heads: 2, hidden: 32, context: 64, tiedEmbeddings: true, normEps: 1e-5, ropeTheta: 10000 }
    const weights = new Map(initParams(config, 1).map((t, i) => [paramSpecs(config)[i].name, t]))
    const { parts } = encodeLlamaGguf({ name: 'published', config, param: name => weights.get(name) as never, tokenizer: published, dtype: 'f32' })
    const path = join(dir, `published-${pre}.gguf`)
    await writeFile(path, Buffer.concat(parts))
    const { metadata } = await gguf(path, { allowLocalFile: true })
    const meta = metadata as unknown as Record<string, unknown>
    assert.equal(meta['tokenizer.ggml.eos_token_id'], 1)
    assert.equal(meta['tokenizer.ggml.bos_token_id'], 0)
    const model = await llama.loadModel({ modelPath: path, vocabOnly: true })
    try {
      const samples = ["I'M HERE, YOU'LL SEE 1234567 apples\r\n\n  ok", "Commons' DAO can't; we'll see. It's 2026!", '{"text": "café ✓ 🚀", "n": 12345.678}', text.subarray(0, 4000).toString()]
      for (const sample of samples) assert.deepEqual(model.tokenize(sample).map(Number), [...ours.encode(Buffer.from(sample))], sample.slice(0, 40))
      assert.deepEqual(model.tokenize('<|end_of_text|>', true).map(Number), [1], 'llama.cpp knows the special tokens')
    } finally {
      await model.dispose()
    }
    const imported = await importGguf({ file: path, out: join(dir, `published-${pre}`) })
    const file = tokenizerFile(published)
    assert.equal(imported.tokenizer, CID.createV1(raw.code, await sha256.digest(file)).toString(), 'the vocabulary comes back as the same tokenizer.json')
    assert.ok((await readFile(join(imported.dir, 'tokenizer.json'))).equals(file))
  })
})
