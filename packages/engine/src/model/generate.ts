import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { BpeTokenizer, parseTokenizerJson, type Bpe } from '@commons/tokenizer'
import { constant, type Var } from '../core/autograd.ts'
import { Decoder } from './decode.ts'
import { forward, makeTables, paramSpecs } from './model.ts'
import { PURPOSE, uniform } from '@commons/protocol'
import { argmax, sampleToken, samplingWords } from '../infer/sample.ts'
import { parseRecipe, type Recipe } from './recipe.ts'
import { CorruptCheckpointError, readSafetensors } from './safetensors.ts'
import { Tensor } from '../core/tensor.ts'
import { startStep, type EngineContext } from '../core/context.ts'

export interface GenerateOptions {
  tokens: number
  /** Omit for greedy decoding; with a seed, sample at `temperature`. */
  seed?: number
  temperature?: number
  /** Sample only among the k most likely tokens (0: all). */
  topK?: number
  /** Sample only among the most likely tokens whose probabilities add up to p (0: all). */
  topP?: number
  /** Recompute the whole window for every token instead of using the key/value cache (same tokens, slower). */
  recompute?: boolean
  /** Called with each token, and its bytes, as it is made (streaming). */
  onToken?: (token: number, bytes: Uint8Array) => void
}

export interface GenerateResult {
  text: string
  tokens: number[]
  tokensPerSecond: number
}

/** How text becomes tokens and back: bytes, or the run's BPE (its tokenizer.json). */
export interface TextCodec {
  encode: (bytes: Uint8Array) => number[]
  decode: (tokens: readonly number[]) => Uint8Array
}

/**
 * The tokenizer a run was trained with: the BPE of its tokenizer.json (checked against
 * the model's vocabulary), or the byte tokenizer (the BPE with no merges).
 */
export async function readRunTokenizer (dir: string, recipe: Recipe): Promise<Bpe> {
  if (recipe.tokenizer === 'byte') return { merges: [] }
  const path = join(dir, 'tokenizer.json')
  const json = await readFile(path, 'utf8').catch((cause: unknown) => {
    throw new CorruptCheckpointError(`${dir} has no tokenizer.json for its tokenizer ${recipe.tokenizer}`, { cause })
  })
  const bpe = parseTokenizerJson(JSON.parse(json), path)
  const vocab = new BpeTokenizer(bpe).vocab
  if (vocab !== recipe.model.vocab) throw new CorruptCheckpointError(`${path} has ${vocab} tokens, the model ${recipe.model.vocab}`)
  return bpe
}

async function loadCodec (dir: string, recipe: Recipe): Promise<TextCodec> {
  if (recipe.tokenizer === 'byte') return { encode: bytes => [...bytes], decode: tokens => Uint8Array.from(tokens) }
  const bpe = new BpeTokenizer(await readRunTokenizer(dir, recipe))
  return { encode: bytes => [...bpe.encode(bytes)], decode: tokens => bpe.decode(tokens) }
}

async function loadModel (dir: string): Promise<{ recipe: Recipe, params: Var[] }> {
  const path = join(dir, 'model.safetensors')
  const { tensors, metadata } = await readSafetensors(path)
  if (metadata.recipe === undefined) throw new CorruptCheckpointError(`${path} does not say which recipe made it`)
  const recipe = parseRecipe(JSON.parse(metadata.recipe), path)
  const params = paramSpecs(recipe.model).map(spec => {
    const t = tensors.get(spec.name)
    if (t === undefined) throw new CorruptCheckpointError(`${path} lacks ${spec.name}`)
    return constant(t)
  })
  return { recipe, params }
}

/**
 * Continues `prompt` (its bytes, or its BPE tokens) with the trained weights of a run directory: greedy, or
 * sampled (infer/sample.ts, the canonical sampler that sampled answers are disputed by)
 * with the counter-based PRNG keyed by (seed, SAMPLE, i) for the i-th new token,
 * so a seed always gives the same text. Transformers decode with a key/value cache while
 * the text fits the context, then recompute the last window per token; both give the
 * tokens the window recompute gives.
 */
export async function generate (ctx: EngineContext, dir: string, prompt: string, options: GenerateOptions): Promise<GenerateResult> {
  return generateWith(ctx, await loadGenerator(dir), prompt, options)
}

/** A run's weights and tokenizer read once: what `generateWith` continues prompts with. */
export interface LoadedGenerator {
  recipe: Recipe
  params: Var[]
  codec: TextCodec
}

/** Reads a run directory's model.safetensors and tokenizer once, for many `generateWith` calls (a provider's). */
export async function loadGenerator (dir: string): Promise<LoadedGenerator> {
  const { recipe, params } = await loadModel(dir)
  return { recipe, params, codec: await loadCodec(dir, recipe) }
}

/** `generate` with a model already loaded: the same tokens, bit for bit, without reading the files again. */
export async function generateWith (ctx: EngineContext, loaded: LoadedGenerator, prompt: string, options: GenerateOptions): Promise<GenerateResult> {
  const { recipe, params, codec } = loaded
  const model = recipe.model
  const window = model.context
  const ids = codec.encode(Buffer.from(prompt, 'utf8'))
  const produced: number[] = []
  const words = samplingWords(options)
  const started = performance.now()
  let decoder: Decoder | null = null
  /** Logits after the last token of `ids`. */
  const next = (): Float32Array => {
    if (model.kind === 'transformer' && options.recompute !== true && ids.length > 0) {
      if (decoder !== null && decoder.position === ids.length - 1 && ids.length <= window) return decoder.feed([ids[ids.length - 1]])
      // The first call, or past the context: the last window from position 0.
      decoder = new Decoder(ctx, model, params)
      return decoder.feed(ids.slice(-window))
    }
    let context = ids.slice(-window)
    if (model.kind === 'mlp') context = [...new Array<number>(Math.max(0, window - context.length)).fill(0x20), ...context]
    startStep(ctx)
    const input = new Tensor([1, context.length], Int32Array.from(context))
    const tables = model.kind === 'transformer' ? makeTables(model, context.length) : undefined
    const logits = forward(ctx, model, params, input, tables).value.f32
    return logits.subarray(logits.length - model.vocab)
  }
  for (let i = 0; i < options.tokens; i++) {
    const logits = next()
    const token = options.seed === undefined ? argmax(logits) : sampleToken(logits, words, uniform(options.seed, PURPOSE.SAMPLE, i))
    ids.push(token)
    produced.push(token)
    if (options.onToken !== undefined) options.onToken(token, codec.decode([token]))
  }
  const seconds = (performance.now() - started) / 1000
  return { text: Buffer.from(codec.decode(produced)).toString('utf8'), tokens: produced, tokensPerSecond: seconds > 0 ? produced.length / seconds : 0 }
}

export { argmax } from '../infer/sample.ts'
