import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Tokenizer } from '@huggingface/tokenizers'
import { generate, initParams, openBackend, paramSpecs, writeSafetensors, type Recipe, type TransformerConfig } from '@commons/engine'
import { generateRows, rowsToBytes } from '@commons/store'
import { getLlama, type Token } from 'node-llama-cpp'
import type { BenchResult } from '../../../bench/table.ts'
import { BpeTokenizer, tokenizerJson, trainBpe } from '@commons/tokenizer'
import { exportGguf } from '../src/exportGguf.ts'

const TRAIN_BYTES = 2_000_000
const ENCODE_BYTES = 4_000_000
const VOCAB = 2048
const CONTEXT = 256
const NEW_TOKENS = 32

/** Tokens per second after the first token (the prompt is done by then): decoding alone. */
async function decodeRate (work: (onToken: () => void) => Promise<unknown>): Promise<number> {
  const times: number[] = []
  await work(() => { times.push(performance.now()) })
  return (times.length - 1) / ((times[times.length - 1] - times[0]) / 1000)
}

const seconds = async (work: () => Promise<unknown> | unknown): Promise<number> => {
  const start = performance.now()
  await work()
  return (performance.now() - start) / 1000
}

/** A run directory with random weights: generation and export cost the same as trained ones. */
async function syntheticRun (dir: string, config: TransformerConfig): Promise<string> {
  const recipe: Recipe = {
    name: 'bench', model: config, tokenizer: 'byte', batchSize: 1, steps: 1, seed: 1, checkpointInterval: 1,
    optimizer: { lr: 0.001, minLr: 0.0001, warmupSteps: 0, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 }
  }
  const zero = `0x${'00'.repeat(32)}`
  const names = paramSpecs(config).map(p => p.name)
  await writeSafetensors(join(dir, 'model.safetensors'), initParams(config, 1).map((t, i) => [names[i], t]), {
    recipe: JSON.stringify(recipe), stateRoot: zero, transcriptRoot: zero, tokensRoot: zero
  })
  return dir
}

/**
 * Models: BPE training and encoding against Hugging Face's tokenizers (JS) on the same
 * tokenizer.json; GGUF export against a plain copy of the same bytes; generation with
 * `commons generate` against llama.cpp on the exported GGUF, same prompt, same machine.
 */
export async function benchModels (log: (line: string) => void): Promise<BenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'commons-bench-models-'))
  try {
    const text = rowsToBytes(generateRows(Math.ceil(ENCODE_BYTES / 200), 3)).subarray(0, ENCODE_BYTES)
    log(`training a ${VOCAB}-token BPE on ${TRAIN_BYTES / 1e6} MB`)
    let bpe = { merges: [] as Array<[number, number]> }
    const trainSeconds = await seconds(() => { bpe = trainBpe(text.subarray(0, TRAIN_BYTES), VOCAB) })
    const hf = new Tokenizer(tokenizerJson(bpe), { tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false })
    const asText = Buffer.from(text).toString('utf8')
    log(`encoding ${ENCODE_BYTES / 1e6} MB with ours and with @huggingface/tokenizers`)
    let ourIds: Int32Array = new Int32Array()
    let theirIds: number[] = []
    const ourSeconds = await seconds(() => { ourIds = new BpeTokenizer(bpe).encode(text) })
    const hfSeconds = await seconds(() => { theirIds = hf.encode(asText).ids })
    const same = ourIds.length === theirIds.length && ourIds.every((id, i) => id === theirIds[i])

    const config: TransformerConfig = { kind: 'transformer', vocab: 256, dModel: 128, layers: 4, heads: 4, hidden: 344, context: CONTEXT, tiedEmbeddings: false, normEps: 1e-5, ropeTheta: 10000 }
    const run = await syntheticRun(dir, config)
    log('exporting GGUF')
    const gguf = join(dir, 'model.gguf')
    const exportSeconds = await seconds(async () => exportGguf({ run, out: gguf }))
    const size = (await stat(gguf)).size
    const copySeconds = await seconds(async () => copyFile(gguf, join(dir, 'copy.gguf')))

    const prompt = 'the quick brown fox jumps over the lazy dog. '.repeat(8).slice(0, CONTEXT - NEW_TOKENS)
    const promptIds = [...Buffer.from(prompt)] as unknown as Token[]
    log(`generating ${NEW_TOKENS} tokens after ${promptIds.length} with commons generate (cache, recompute) and with llama.cpp`)
    const backend = openBackend('auto')
    let cached = 0
    let recompute = 0
    try {
      // Warm-up first, as for llama.cpp below: the JIT compiles the decoding loop on the first call.
      await generate(backend.ctx, run, prompt, { tokens: NEW_TOKENS })
      cached = await decodeRate(async onToken => generate(backend.ctx, run, prompt, { tokens: NEW_TOKENS, onToken }))
      recompute = await decodeRate(async onToken => generate(backend.ctx, run, prompt, { tokens: 6, recompute: true, onToken }))
    } finally {
      await backend.close()
    }
    const llama = await getLlama({ gpu: false, logLevel: 'error' as never })
    const model = await llama.loadModel({ modelPath: gguf })
    // One thread, as the engine's backend here: the same share of the machine.
    const context = await model.createContext({ contextSize: CONTEXT, threads: 1, sequences: 2 })
    let llamaRate = 0
    try {
      const run = async (sequence: ReturnType<typeof context.getSequence>, onToken: () => void): Promise<void> => {
        let n = 0
        for await (const _ of sequence.evaluate(promptIds, { temperature: 0 })) {
          onToken()
          if (++n === NEW_TOKENS) break
        }
      }
      await run(context.getSequence(), () => {}) // warm-up: llama.cpp builds its graphs on the first call
      llamaRate = await decodeRate(async onToken => run(context.getSequence(), onToken))
    } finally {
      await context.dispose()
      await model.dispose()
      await llama.dispose()
    }
    const mb = (bytes: number, s: number): number => Number((bytes / 1e6 / s).toFixed(2))
    const figures = {
      bpeTrainSeconds: Number(trainSeconds.toFixed(2)),
      encodeMBps: { commons: mb(ENCODE_BYTES, ourSeconds), huggingface: mb(ENCODE_BYTES, hfSeconds), sameIds: same },
      exportGguf: { bytes: size, seconds: Number(exportSeconds.toFixed(3)), copySeconds: Number(copySeconds.toFixed(3)) },
      generateTokensPerSecond: { commons: Number(cached.toFixed(2)), recompute: Number(recompute.toFixed(2)), llamaCpp: Number(llamaRate.toFixed(2)), backend: backend.name }
    }
    return {
      part: 'models',
      title: 'Models: tokenizer, export and generation against their references (same run)',
      columns: ['measure', 'commons', 'reference', 'ratio'],
      rows: [
        ['BPE encode (MB/s) vs @huggingface/tokenizers', figures.encodeMBps.commons, figures.encodeMBps.huggingface, Number((figures.encodeMBps.commons / figures.encodeMBps.huggingface).toFixed(2))],
        [`GGUF export (MB/s) vs a file copy, ${(size / 1e6).toFixed(1)} MB`, mb(size, exportSeconds), mb(size, copySeconds), Number((copySeconds / exportSeconds).toFixed(3))],
        [`generate tokens/s at ${promptIds.length}+ tokens of context, KV cache vs window recompute`, figures.generateTokensPerSecond.commons, figures.generateTokensPerSecond.recompute, Number((cached / recompute).toFixed(1))],
        ['generate tokens/s, KV cache vs llama.cpp (F32, same GGUF)', figures.generateTokensPerSecond.commons, figures.generateTokensPerSecond.llamaCpp, Number((figures.generateTokensPerSecond.commons / figures.generateTokensPerSecond.llamaCpp).toFixed(3))]
      ],
      notes: [
        `BPE training: ${VOCAB} tokens from ${TRAIN_BYTES / 1e6} MB in ${figures.bpeTrainSeconds} s; both tokenizers give the same ids: ${same}`,
        `commons generate on the ${backend.name} backend; tokens/s count decoding after the prompt (from the first new token to the last), for all three`,
        'model: 4 layers, d 128, context 256, random weights (speed does not depend on training)'
      ],
      figures
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
