import { join } from 'node:path'
import { initParams, paramSpecs, writeSafetensors, type Recipe, type TransformerConfig } from '@commons/engine'

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
