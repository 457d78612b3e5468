import type { BenchResult } from '../../../bench/table.ts'
import { AGENT_MODEL_PATH, agentModelDialogues } from '../src/dialogues/agentModel.ts'
import { evaluateToolChoice, type ToolChoiceScore } from '../src/dialogues/evaluateToolChoice.ts'
import { blindDialogues, sealedDialogues } from '../src/dialogues/toolDialogues.ts'
import { commonsTools } from '../src/tools/index.ts'

/** Questions asked in trained phrasings: a reference for the held-out score, not the goal. */
const TRAINED_SAMPLE = 60

const missList = (s: ToolChoiceScore): string => s.misses.slice(0, 8).map(m => `"${m.question}" -> ${m.called ?? 'no call'} (not ${m.expected})`).join('; ') || 'none'

const pct = (n: number, of: number): string => `${(100 * n / Math.max(1, of)).toFixed(0)} %`

/**
 * Agent: the demo's agent model (packages/agent/model/agent.gguf, a Commons model trained
 * on the generated tool-use dialogues; COMMONS_AGENT_MODEL=FILE.gguf measures another)
 * asked its held-out questions, worded in phrasings never in its training data, and, as
 * questions written blind (by someone who never saw the training phrasings: blindHeldOut.ts)
 * and a sealed blind set kept off the repository until the model was final;
 * as references, questions in trained phrasings and in validation ones: the share that call the right tool with
 * valid arguments, time to first token and tokens/s through node-llama-cpp on the CPU.
 */
export async function benchAgent (log: (line: string) => void): Promise<BenchResult> {
  const model = process.env.COMMONS_AGENT_MODEL ?? AGENT_MODEL_PATH
  const { train, validation, heldOut } = agentModelDialogues()
  const blind = blindDialogues()
  const sealed = sealedDialogues()
  const init = { modelPath: model, gpu: false as const, maxTokens: 120 }
  const seenSample = train.slice(0, TRAINED_SAMPLE)
  log(`asking ${model} ${seenSample.length} questions in trained phrasings, ${validation.length} in validation ones, ${heldOut.length} in held-out ones, ${blind.length} written blind, ${sealed.length} sealed`)
  const seen = await evaluateToolChoice(init, commonsTools, seenSample)
  const checked = await evaluateToolChoice(init, commonsTools, validation)
  const held = await evaluateToolChoice(init, commonsTools, heldOut)
  const unseen = await evaluateToolChoice(init, commonsTools, blind)
  const unopened = await evaluateToolChoice(init, commonsTools, sealed)
  const row = (name: string, s: ToolChoiceScore): Array<string | number> =>
    [name, s.questions, pct(s.rightTool, s.questions), pct(s.validArguments, s.questions), pct(s.exactArguments, s.questions), pct(s.restatedAnswers, s.questions), s.medianFirstTokenMs.toFixed(0), s.tokensPerSecond.toFixed(0)]
  return {
    part: 'agent',
    title: 'Agent: tool choice of the demo\'s agent model (node-llama-cpp, CPU, greedy)',
    columns: ['phrasings', 'questions', 'right tool', 'valid args', 'exact args', 'answer restates result', 'first token ms', 'tokens/s'],
    rows: [row('trained (reference)', seen), row('validation (choices made on it)', checked), row('held out', held), row('held out, written blind', unseen), row('held out, sealed', unopened)],
    notes: [
      'held out: phrasings never in the training corpus nor looked at while choosing data, recipe and length (validation was); the goal is >= 90 % right tool with valid arguments',
      'written blind: 62 requests written by someone given only the tools\' descriptions (10 that training covered left out), each asked twice; the model\'s trainer never opened them but saw the bench\'s misses once the model was final',
      'sealed: 83 requests written blind by another writer and kept off the repository until the model was final (13 that training covered left out), each asked twice; the goal is met on it',
      `misses (held out): ${missList(held)}`,
      `misses (written blind): ${missList(unseen)}`,
      `misses (sealed): ${missList(unopened)}`
    ],
    figures: { model, trained: { ...seen, misses: seen.misses.length }, validation: { ...checked, misses: checked.misses.length }, heldOut: { ...held, misses: held.misses }, blind: { ...unseen, misses: unseen.misses }, sealed: { ...unopened, misses: unopened.misses } }
  }
}
