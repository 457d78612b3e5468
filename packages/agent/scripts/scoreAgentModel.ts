/**
 * Scores an agent model's tool choice on one set of the agent model's dialogues:
 *
 *   node packages/agent/scripts/scoreAgentModel.ts --model runs/agent.gguf [--set validation] [--json]
 *
 * Every choice of data, recipe and length is made on `--set validation` (phrasings apart
 * from training and held-out ones); the held-out set is for the final report
 * (`npm run bench -- --part agent` asks it of the shipped model).
 */
import { parseArgs } from 'node:util'
import { agentModelDialogues } from '../src/dialogues/agentModel.ts'
import { blindDialogues, sealedDialogues } from '../src/dialogues/toolDialogues.ts'
import { evaluateToolChoice } from '../src/dialogues/evaluateToolChoice.ts'
import { commonsTools } from '../src/tools/index.ts'

const SETS = ['validation', 'heldout', 'blind', 'sealed', 'train'] as const

const { values } = parseArgs({ options: { model: { type: 'string' }, set: { type: 'string', default: 'validation' }, json: { type: 'boolean' }, help: { type: 'boolean' } } })
if (values.help === true || values.model === undefined) {
  process.stdout.write('usage: node packages/agent/scripts/scoreAgentModel.ts --model FILE.gguf [--set validation|heldout|blind|sealed|train] [--json]\n')
  process.exit(values.help === true ? 0 : 1)
}
const set = values.set as typeof SETS[number]
if (!SETS.includes(set)) {
  process.stderr.write(`error: --set must be one of ${SETS.join(', ')}, got ${values.set}\n`)
  process.exit(1)
}
const sets = agentModelDialogues()
// Training questions: the first 120, as a reference for how well the data was learnt.
const dialogues = set === 'validation' ? sets.validation : set === 'heldout' ? sets.heldOut : set === 'blind' ? blindDialogues() : set === 'sealed' ? sealedDialogues() : sets.train.slice(0, 120)
process.stderr.write(`asking ${values.model} ${dialogues.length} ${set} questions\n`)
const score = await evaluateToolChoice({ modelPath: values.model, gpu: false, maxTokens: 120 }, commonsTools, dialogues)
const pct = (n: number): string => `${(100 * n / Math.max(1, score.questions)).toFixed(0)} %`
if (values.json === true) process.stdout.write(JSON.stringify({ set, ...score }, null, 2) + '\n')
else {
  process.stdout.write(`${set}: ${score.questions} questions, right tool ${pct(score.rightTool)}, valid args ${pct(score.validArguments)}, exact args ${pct(score.exactArguments)}, answer restating the result ${pct(score.restatedAnswers)}, first token ${score.medianFirstTokenMs.toFixed(0)} ms, ${score.tokensPerSecond.toFixed(0)} tokens/s\n`)
  const misses = new Map<string, number>()
  for (const m of score.misses) {
    // Misses grouped by phrasing: slots that are numbers read as N.
    const key = `${m.question.replace(/\d+/g, 'N')} -> ${m.called ?? 'no call'} (not ${m.expected})`
    misses.set(key, (misses.get(key) ?? 0) + 1)
  }
  for (const [miss, n] of [...misses].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${n} x ${miss}\n`)
}
