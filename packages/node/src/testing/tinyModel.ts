import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { initParams, paramSpecs, slotNames, stateRootOf, stateSlots, Tensor, writeSafetensors, type Recipe, type TransformerConfig } from '@commons/engine'
import { toHex } from '@commons/protocol'

/** A small transformer of random weights (byte tokenizer) written as a run's model.safetensors: what inference tests serve. */
export const TINY_MODEL: TransformerConfig = { kind: 'transformer', vocab: 256, dModel: 16, layers: 1, heads: 2, hidden: 32, context: 64, tiedEmbeddings: false, normEps: 1e-5, ropeTheta: 10000 }

export async function writeTinyModel (dir: string, seed = 7, name = 'tiny'): Promise<void> {
  const recipe: Recipe = {
    name, model: TINY_MODEL, tokenizer: 'byte', batchSize: 1, steps: 1, seed: 1, checkpointInterval: 1,
    optimizer: { lr: 0.001, minLr: 0.0001, warmupSteps: 0, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 }
  }
  const specs = paramSpecs(TINY_MODEL)
  await writeSafetensors(join(dir, 'model.safetensors'), initParams(TINY_MODEL, seed).map((t, i) => [specs[i].name, t]), { recipe: JSON.stringify(recipe) })
}

/**
 * A run directory as `commons train` leaves it, small: the last checkpoint (parameters
 * of `seed` scaled by `scale` so the greedy text varies, zero moments, step 1) and
 * model.safetensors recording its state root: what a provider defends its answers with
 * and a client replays them with. `context` is kept short: a service binds one forward
 * program per window length.
 */
export async function writeTinyRun (dir: string, seed = 7, options: { scale?: number, context?: number, name?: string } = {}): Promise<Recipe> {
  const model: TransformerConfig = { ...TINY_MODEL, context: options.context ?? 16 }
  const recipe: Recipe = {
    name: options.name ?? 'tiny-run', model, tokenizer: 'byte', batchSize: 1, steps: 1, seed: 1, checkpointInterval: 1,
    optimizer: { lr: 0.001, minLr: 0.0001, warmupSteps: 0, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 }
  }
  const scale = options.scale ?? 40
  const params = initParams(model, seed).map(t => new Tensor(t.shape, t.f32.map(x => x * scale)))
  const state = { step: 1, params, m: params.map(p => Tensor.zeros(p.shape)), v: params.map(p => Tensor.zeros(p.shape)) }
  const root = toHex(stateRootOf(state))
  const names = slotNames(model)
  await mkdir(join(dir, 'checkpoints'), { recursive: true })
  await writeSafetensors(join(dir, 'checkpoints', 'step-0000001.safetensors'), stateSlots(state).map((t, i) => [names[i], t]), { step: '1', stateRoot: root, recipe: JSON.stringify(recipe) })
  const specs = paramSpecs(model)
  await writeSafetensors(join(dir, 'model.safetensors'), params.map((t, i) => [specs[i].name, t]), { recipe: JSON.stringify(recipe), stateRoot: root })
  return recipe
}
