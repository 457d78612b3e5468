/**
 * Writes the tool-use dialogue dataset a Commons agent model is trained on:
 *
 *   node packages/agent/scripts/generateDialogues.ts --out data/tool-dialogues [--seed 1] [--per-tool 500] [--held-out-per-tool 10] [--unknown-words 0.4]
 *   npx commons dataset init tool-dialogues
 *   npx commons dataset commit tool-dialogues data/tool-dialogues/corpus -m "tool-use dialogues, seed 1"
 *
 * The defaults draw the shipped agent model's dialogues (packages/agent/model/README.md).
 * corpus/corpus.txt is the training text (conversations of six dialogues in the agent's chat format,
 * and ended by <end>), alone in its folder because training reads every file of a dataset;
 * train.jsonl, validation.jsonl and heldout.jsonl, beside it, hold the dialogues as data, the
 * validation and held-out ones worded in phrasings training never uses (validation: for
 * choosing data, recipe and length; held out: the final measure of tool choice).
 */
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import writeFileAtomic from 'write-file-atomic'
import type { Dialogue } from '../src/dialogues/renderDialogue.ts'
import { toolDialogues } from '../src/dialogues/toolDialogues.ts'
import { AGENT_MODEL_DIALOGUES, corpusText } from '../src/dialogues/agentModel.ts'

const { values } = parseArgs({ options: { out: { type: 'string', default: 'data/tool-dialogues' }, seed: { type: 'string', default: String(AGENT_MODEL_DIALOGUES.seed) }, 'per-tool': { type: 'string', default: String(AGENT_MODEL_DIALOGUES.perTemplate) }, 'held-out-per-tool': { type: 'string', default: String(AGENT_MODEL_DIALOGUES.heldOutPerTemplate) }, 'unknown-words': { type: 'string', default: String(AGENT_MODEL_DIALOGUES.unknownWords) }, help: { type: 'boolean' } } })
if (values.help === true) {
  process.stdout.write('usage: node packages/agent/scripts/generateDialogues.ts [--out DIR] [--seed N] [--per-tool N] [--held-out-per-tool N] [--unknown-words SHARE]\n')
  process.exit(0)
}
const seed = Number(values.seed)
const perTemplate = Number(values['per-tool'])
const heldOutPerTemplate = Number(values['held-out-per-tool'])
const unknownWords = Number(values['unknown-words'])
if (!(unknownWords >= 0 && unknownWords <= 1)) {
  process.stderr.write(`error: --unknown-words must be a share between 0 and 1, got ${values['unknown-words']}\n`)
  process.exit(1)
}
if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(perTemplate) || perTemplate < 1 || !Number.isSafeInteger(heldOutPerTemplate) || heldOutPerTemplate < 0) {
  process.stderr.write(`error: --seed, --per-tool and --held-out-per-tool must be whole numbers (--per-tool >= 1), got ${values.seed}, ${values['per-tool']} and ${values['held-out-per-tool']}\n`)
  process.exit(1)
}
const out = resolve(values.out)
const sets = toolDialogues({ seed, perTemplate, heldOutPerTemplate, validationPerTemplate: AGENT_MODEL_DIALOGUES.validationPerTemplate, unknownWords })
const { train, validation, heldOut } = sets
const row = (d: Dialogue): string => JSON.stringify({ question: d.question, call: d.call === undefined ? null : { name: d.call.name, arguments: d.call.params }, answer: d.answer })
await mkdir(join(out, 'corpus'), { recursive: true })
await writeFileAtomic(join(out, 'corpus', 'corpus.txt'), corpusText(sets))
await writeFileAtomic(join(out, 'train.jsonl'), train.map(row).join('\n') + '\n')
await writeFileAtomic(join(out, 'validation.jsonl'), validation.map(row).join('\n') + '\n')
await writeFileAtomic(join(out, 'heldout.jsonl'), heldOut.map(row).join('\n') + '\n')
process.stdout.write(`wrote ${train.length} training, ${validation.length} validation and ${heldOut.length} held-out dialogues to ${out}\n`)
