import { join } from 'node:path'
import { constant } from './autograd.ts'
import { forward, makeTables, paramSpecs } from './model.ts'
import { expf, f } from './numerics.ts'
import { PURPOSE, uniform } from './prng.ts'
import { parseRecipe } from './recipe.ts'
import { CorruptCheckpointError, readSafetensors } from './safetensors.ts'
import { Tensor } from './tensor.ts'
import { startStep, type EngineContext } from './context.ts'

export interface GenerateOptions {
  tokens: number
  /** Omit for greedy decoding; with a seed, sample at `temperature`. */
  seed?: number
  temperature?: number
}

/**
 * Continues `prompt` (bytes) with the trained weights of a run directory: greedy, or
 * sampled with the counter-based PRNG (seed, SAMPLE, i), so a seed always gives the
 * same text.
 */
export async function generate (ctx: EngineContext, dir: string, prompt: string, options: GenerateOptions): Promise<{ text: string, tokens: number[] }> {
  const path = join(dir, 'model.safetensors')
  const { tensors, metadata } = await readSafetensors(path)
  if (metadata.recipe === undefined) throw new CorruptCheckpointError(`${path} does not say which recipe made it`)
  const recipe = parseRecipe(JSON.parse(metadata.recipe), path)
  const params = paramSpecs(recipe.model).map(spec => {
    const t = tensors.get(spec.name)
    if (t === undefined) throw new CorruptCheckpointError(`${path} lacks ${spec.name}`)
    return constant(t)
  })
  const window = recipe.model.context
  const ids = [...Buffer.from(prompt, 'utf8')]
  const produced: number[] = []
  const temperature = f(options.temperature ?? 1)
  for (let i = 0; i < options.tokens; i++) {
    let context = ids.slice(-window)
    if (recipe.model.kind === 'mlp') context = [...new Array<number>(Math.max(0, window - context.length)).fill(0x20), ...context]
    startStep(ctx)
    const input = new Tensor([1, context.length], Int32Array.from(context))
    const tables = recipe.model.kind === 'transformer' ? makeTables(recipe.model, context.length) : undefined
    const logits = forward(ctx, recipe.model, params, input, tables).value.f32
    const v = recipe.model.vocab
    const last = logits.subarray(logits.length - v)
    const next = options.seed === undefined ? argmax(last) : sample(last, temperature, uniform(options.seed, PURPOSE.SAMPLE, i))
    ids.push(next)
    produced.push(next)
  }
  return { text: Buffer.from(produced).toString('utf8'), tokens: produced }
}

function argmax (x: Float32Array): number {
  let best = 0
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i
  return best
}

/** Index where the running sum of exp((x − max)/T) first exceeds u times the total. */
function sample (x: Float32Array, temperature: number, u: number): number {
  const max = x[argmax(x)]
  const weights = new Float32Array(x.length)
  let total = 0
  for (let i = 0; i < x.length; i++) {
    weights[i] = expf(f(f(x[i] - max) / temperature))
    total = f(total + weights[i])
  }
  const target = f(u * total)
  let running = 0
  for (let i = 0; i < x.length; i++) {
    running = f(running + weights[i])
    if (running > target) return i
  }
  return x.length - 1
}
