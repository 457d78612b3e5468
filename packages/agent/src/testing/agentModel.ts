import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openBackend, parseRecipe, train, type Recipe } from '@commons/engine'
import { exportGguf } from '@commons/models'
import { DIALOGUE_END, renderDialogue, type Dialogue } from '../dialogues/renderDialogue.ts'

const REPO = join(import.meta.dirname, '..', '..', '..', '..')

/**
 * Trains a tiny byte-level Commons model on `dialogues` rendered in the agent's chat
 * format until it repeats them, and exports it to GGUF: a real model exported by Commons
 * that makes the tool calls it was taught (so a test checks the plumbing, not the
 * judgement of a model this small).
 */
export async function trainAgentModel (dir: string, dialogues: readonly Dialogue[], steps = 200): Promise<string> {
  const tiny = JSON.parse(await readFile(join(REPO, 'recipes', 'tiny.json'), 'utf8')) as Recipe
  const recipe = parseRecipe({
    ...tiny,
    name: 'agent-test',
    steps,
    checkpointInterval: steps,
    batchSize: 8,
    model: { ...tiny.model, dModel: 64, hidden: 172, heads: 4, context: 256 },
    optimizer: { ...tiny.optimizer, lr: 0.01, warmupSteps: 10 }
  })
  const texts = dialogues.map(d => renderDialogue(d) + DIALOGUE_END)
  // Every rotation, repeated: each dialogue follows each other one, so none is learned as the only continuation.
  const corpus = texts.map((_, i) => [...texts.slice(i), ...texts.slice(0, i)].join('')).join('').repeat(8)
  const backend = openBackend('auto')
  try {
    const run = join(dir, 'run')
    await train(backend.ctx, { recipe, tokens: Int32Array.from(Buffer.from(corpus)), data: { source: 'agent-test-dialogues' }, out: run })
    return (await exportGguf({ run, out: join(dir, 'agent.gguf') })).path
  } finally {
    await backend.close()
  }
}
