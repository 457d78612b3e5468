import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { keccak256, type Hex } from 'viem'
import { checkpointSteps, generateWith, loadCheckpoint, loadGenerator, parseRecipe, readRunTokenizer, readSafetensors, type EngineContext, type GenerateResult, type Recipe, type TrainState } from '@commons/engine'
import { BpeTokenizer } from '@commons/tokenizer'
import type { SamplingParams } from './receipt.ts'

/**
 * A model a provider serves: a run directory (model.safetensors, and tokenizer.json for a
 * BPE recipe), its state root, and how its prompts become tokens (the receipt hashes the
 * tokens the model saw, not the text).
 */
export interface ServedModel {
  dir: string
  /** The id clients name it by: the recipe's name. */
  name: string
  /** The state root its checkpoint records; for weights without one, keccak256 of the file. */
  root: Hex
  recipe: Recipe
  /** The prompt's tokens, as `generate` feeds them. */
  encode(prompt: string): number[]
  /** Continues `prompt` under `params`, calling `onToken` with each token's text. */
  generate(ctx: EngineContext, prompt: string, params: SamplingParams, onToken?: (text: string) => void): Promise<GenerateResult>
}

export async function loadServedModel (dir: string): Promise<ServedModel> {
  const path = join(dir, 'model.safetensors')
  const { metadata } = await readSafetensors(path)
  const recipe = parseRecipe(JSON.parse(metadata.recipe ?? '{}'), path)
  const root = (metadata.stateRoot as Hex | undefined) ?? keccak256(await readFile(path))
  const bpe = recipe.tokenizer === 'byte' ? null : new BpeTokenizer(await readRunTokenizer(dir, recipe))
  // The weights are read once, on the first request, and kept: the file is not read again
  // (and not at all by holders that never generate here, e.g. a provider generating in a worker).
  let loaded: ReturnType<typeof loadGenerator> | undefined
  return {
    dir,
    name: recipe.name,
    root,
    recipe,
    encode: prompt => {
      const bytes = Buffer.from(prompt, 'utf8')
      return bpe === null ? [...bytes] : [...bpe.encode(bytes)]
    },
    generate: async (ctx, prompt, params, onToken) => {
      // Tokens are bytes (or merges of them): a character may span two, so text is decoded as a stream.
      const decoder = new TextDecoder('utf-8')
      const result = await generateWith(ctx, await (loaded ??= loadGenerator(dir)), prompt, {
        tokens: params.tokens,
        ...(params.seed === null ? {} : { seed: params.seed, temperature: params.temperature, topK: params.topK ?? undefined, topP: params.topP ?? undefined }),
        onToken: onToken === undefined ? undefined : (_token, bytes) => { emit(decoder.decode(bytes, { stream: true })) }
      })
      emit(decoder.decode())
      return result
      function emit (text: string): void {
        if (text !== '') onToken?.(text)
      }
    }
  }
}

/**
 * The state of a run directory's last checkpoint, or undefined when it keeps none: what
 * both sides of a generation dispute commit to (the provider defends with its slots, the
 * client replays with its parameters; its state root is the served model root).
 */
export async function lastCheckpointOf (dir: string, recipe: Recipe): Promise<TrainState | undefined> {
  const step = (await checkpointSteps(dir)).pop()
  return step === undefined ? undefined : loadCheckpoint(dir, recipe, step)
}
