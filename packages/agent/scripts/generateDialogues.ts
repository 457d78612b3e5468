/**
 * Writes the tool-use dialogue dataset a Commons agent model is trained on:
 *
 *   node packages/agent/scripts/generateDialogues.ts --out data/tool-dialogues [--seed 1] [--per-tool 40]
 *   npx commons dataset init tool-dialogues
 *   npx commons dataset commit tool-dialogues data/tool-dialogues -m "tool-use dialogues, seed 1"
 *
 * corpus.txt is the training text (each dialogue rendered in the agent's chat format and
 * ended by <end>); train.jsonl and heldout.jsonl hold the same dialogues as data, the
 * held-out ones worded in phrasings training never uses, for measuring tool choice.
 */
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import writeFileAtomic from 'write-file-atomic'
import { DIALOGUE_END, renderDialogue, type Dialogue } from '../src/dialogues/renderDialogue.ts'
import { toolDialogues } from '../src/dialogues/toolDialogues.ts'

const { values } = parseArgs({ options: { out: { type: 'string', default: 'data/tool-dialogues' }, seed: { type: 'string', default: '1' }, 'per-tool': { type: 'string', default: '40' }, help: { type: 'boolean' } } })
if (values.help === true) {
  process.stdout.write('usage: node packages/agent/scripts/generateDialogues.ts [--out DIR] [--seed N] [--per-tool N]\n')
  process.exit(0)
}
const seed = Number(values.seed)
const perTemplate = Number(values['per-tool'])
if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(perTemplate) || perTemplate < 1) {
  process.stderr.write(`error: --seed and --per-tool must be whole numbers (--per-tool >= 1), got ${values.seed} and ${values['per-tool']}\n`)
  process.exit(1)
}
const out = resolve(values.out)
const { train, heldOut } = toolDialogues({ seed, perTemplate })
const row = (d: Dialogue): string => JSON.stringify({ question: d.question, call: d.call === undefined ? null : { name: d.call.name, arguments: d.call.params }, answer: d.answer })
await mkdir(out, { recursive: true })
await writeFileAtomic(join(out, 'corpus.txt'), train.map(d => renderDialogue(d) + DIALOGUE_END).join(''))
await writeFileAtomic(join(out, 'train.jsonl'), train.map(row).join('\n') + '\n')
await writeFileAtomic(join(out, 'heldout.jsonl'), heldOut.map(row).join('\n') + '\n')
process.stdout.write(`wrote ${train.length} training and ${heldOut.length} held-out dialogues to ${out}\n`)
