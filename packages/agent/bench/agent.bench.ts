import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openBackend, parseRecipe, train, type Recipe } from '@commons/engine'
import { exportGguf } from '@commons/models'
import type { BenchResult } from '../../../bench/table.ts'
import { DIALOGUE_END, renderDialogue } from '../src/dialogues/renderDialogue.ts'
import { toolDialogues } from '../src/dialogues/toolDialogues.ts'
import { evaluateToolChoice, type ToolChoiceScore } from '../src/dialogues/evaluateToolChoice.ts'
import { commonsTools } from '../src/tools/index.ts'

/** Steps of the short training run (COMMONS_BENCH_AGENT_STEPS overrides): enough to show the trend, not the demo's model. */
const STEPS = Number(process.env.COMMONS_BENCH_AGENT_STEPS ?? 400)

/** A byte-level model just big enough to hold the prompt, the question and the call in its context. */
const RECIPE: Recipe = parseRecipe({
  name: 'agent-bench',
  model: { kind: 'transformer', vocab: 256, dModel: 96, layers: 3, heads: 4, hidden: 256, context: 384, tiedEmbeddings: false, normEps: 1e-5, ropeTheta: 10000 },
  tokenizer: 'byte',
  optimizer: { lr: 0.006, minLr: 0.0006, warmupSteps: 20, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01, gradClip: 1 },
  // batch x context <= 2048: a weight gradient's dot product must stay checkable on-chain.
  batchSize: 5,
  steps: STEPS,
  seed: 1,
  checkpointInterval: STEPS
})

const pct = (n: number, of: number): string => `${(100 * n / Math.max(1, of)).toFixed(0)} %`

/**
 * Agent: a small Commons model trained on the generated tool-use dialogues, asked
 * questions in phrasings it was trained on (the reference) and in held-out phrasings;
 * the share that call the right tool with valid arguments, time to first token and
 * tokens/s through node-llama-cpp. COMMONS_AGENT_MODEL=FILE.gguf skips the training.
 */
export async function benchAgent (log: (line: string) => void): Promise<BenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'commons-bench-agent-'))
  try {
    const { train: dialogues, heldOut } = toolDialogues({ seed: 1, perTemplate: 40, heldOutPerTemplate: 5 })
    let model = process.env.COMMONS_AGENT_MODEL
    if (model === undefined) {
      const corpus = Buffer.from(dialogues.map(d => renderDialogue(d) + DIALOGUE_END).join(''))
      log(`training ${RECIPE.name} for ${STEPS} steps on ${dialogues.length} dialogues (${(corpus.length / 1e3).toFixed(0)} kB)`)
      const backend = openBackend('auto')
      try {
        await train(backend.ctx, { recipe: RECIPE, tokens: Int32Array.from(corpus), data: { source: 'tool-dialogues seed 1' }, out: join(dir, 'run') })
      } finally {
        await backend.close()
      }
      model = (await exportGguf({ run: join(dir, 'run'), out: join(dir, 'agent.gguf') })).path
    }
    const init = { modelPath: model, gpu: false as const, maxTokens: 120 }
    const seenSample = dialogues.slice(0, heldOut.length)
    log(`asking ${seenSample.length} questions in trained phrasings, ${heldOut.length} in held-out ones`)
    const seen = await evaluateToolChoice(init, commonsTools, seenSample)
    const held = await evaluateToolChoice(init, commonsTools, heldOut)
    const row = (name: string, s: ToolChoiceScore): Array<string | number> =>
      [name, s.questions, pct(s.rightTool, s.questions), pct(s.validArguments, s.questions), pct(s.exactArguments, s.questions), s.medianFirstTokenMs.toFixed(0), s.tokensPerSecond.toFixed(0)]
    return {
      part: 'agent',
      title: `Agent: tool choice of a ${STEPS}-step byte-level model (node-llama-cpp, CPU)`,
      columns: ['phrasings', 'questions', 'right tool', 'valid args', 'exact args', 'first token ms', 'tokens/s'],
      rows: [row('trained (reference)', seen), row('held out', held)],
      notes: [
        'held out: phrasings never in the training corpus; the goal is >= 90 % right tool with valid arguments',
        `misses (held out): ${held.misses.slice(0, 5).map(m => `"${m.question}" -> ${m.called ?? 'no call'} (not ${m.expected})`).join('; ') || 'none'}`
      ],
      figures: { steps: STEPS, trained: { ...seen, misses: seen.misses.length }, heldOut: { ...held, misses: held.misses.length } }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
