/**
 * Trains the stand-in agent model shipped at packages/agent/model/agent.gguf until the
 * network-trained one replaces it:
 *
 *   node packages/agent/scripts/trainStandInModel.ts [--steps 1400] [--out packages/agent/model/agent.gguf]
 *
 * A small byte-level Commons model trained on a few generated tool-use dialogues with the
 * demo's own questions (commons demo's agent act) weighted in, so that a model this small
 * makes the demo's calls; exported to GGUF. Deterministic: the same steps give the same file.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { openBackend, parseRecipe, train } from '@commons/engine'
import { exportGguf } from '@commons/models'
import { seededRandom } from '@commons/store'
import { DIALOGUE_END, renderDialogue, type Dialogue } from '../src/dialogues/renderDialogue.ts'
import { toolDialogues } from '../src/dialogues/toolDialogues.ts'
import { commonsTools } from '../src/tools/index.ts'

const { values } = parseArgs({ options: { steps: { type: 'string', default: '1400' }, out: { type: 'string', default: join(import.meta.dirname, '..', 'model', 'agent.gguf') }, help: { type: 'boolean' } } })
if (values.help === true) {
  process.stdout.write('usage: node packages/agent/scripts/trainStandInModel.ts [--steps N] [--out FILE.gguf]\n')
  process.exit(0)
}
const steps = Number(values.steps)
if (!Number.isSafeInteger(steps) || steps < 1) {
  process.stderr.write(`error: --steps must be a whole number >= 1, got ${values.steps}\n`)
  process.exit(1)
}

const tools = commonsTools.map(t => t.name)
const price = { price: '3000.00', value: '300000000000', decimals: 8, round: '1', ageSeconds: 700, verdict: 'fresh', summary: 'ETH / USD is 3000.00 (round 1, 700 s old)' }
/** The demo's questions (packages/cli/src/demo/agentAct.ts), with the calls they should make. */
const demo: Dialogue[] = [
  { tools, question: 'What is the ETH price now?', call: { name: 'price', params: { heartbeat: null, feed: null } }, result: price, answer: 'ETH is 3000.00 USD (round 1, fresh).' },
  // Jobs 0 and 1 are the demo's; ten ids, evenly, make the model copy the id rather than learn one.
  ...Array.from({ length: 10 }, (_, id) => ({
    tools, question: `Which dataset was job ${id} trained on, and who checked it?`, call: { name: 'job_show', params: { id } },
    result: { id, status: 'finalized', dataset: 'bafy...', trainer: '0x7099...', attestors: ['0x90F7...'], disputes: [] },
    answer: `Job ${id} trained on bafy..., checked by 0x90F7....`
  })),
  {
    tools, question: 'Ask validator about disputes.', call: { name: 'agent_ask', params: { agent: 'validator', question: 'What do you know about disputes?' } },
    result: { agent: 'validator', state: 'completed', answer: 'Disputes: job 1 was disputed [bafk...]', cites: ['bafk...'] }, answer: 'validator says: job 1 was disputed, see note bafk....'
  }
]

// A few generated dialogues per tool with the demo's repeated among them (half the corpus), shuffled by a fixed seed:
// a model this small, trained this briefly on two busy cores, learns the demo's calls, not tool choice in general.
const { train: generated } = toolDialogues({ seed: 1, perTemplate: 2 })
const [price1, ...jobs] = demo.slice(0, -1)
const ask = demo.at(-1)!
const dialogues = [...generated, ...jobs, ...jobs, ...Array.from({ length: 6 }, () => [price1, ask]).flat()]
const next = seededRandom(7)
for (let i = dialogues.length - 1; i > 0; i--) {
  const j = Math.floor(next() * (i + 1))
  ;[dialogues[i], dialogues[j]] = [dialogues[j], dialogues[i]]
}
const corpus = Buffer.from(dialogues.map(d => renderDialogue(d) + DIALOGUE_END).join(''))

const recipe = parseRecipe({
  name: 'agent-stand-in',
  model: { kind: 'transformer', vocab: 256, dModel: 64, layers: 2, heads: 4, hidden: 172, context: 384, tiedEmbeddings: false, normEps: 1e-5, ropeTheta: 10000 },
  tokenizer: 'byte',
  optimizer: { lr: 0.01, minLr: 0.001, warmupSteps: 20, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01, gradClip: 1 },
  batchSize: 4,
  steps,
  seed: 1,
  checkpointInterval: steps
})
process.stdout.write(`training ${recipe.name} for ${steps} steps on ${dialogues.length} dialogues (${(corpus.length / 1e3).toFixed(0)} kB)\n`)
const dir = await mkdtemp(join(tmpdir(), 'commons-stand-in-'))
const backend = openBackend('auto')
try {
  const started = Date.now()
  await train(backend.ctx, { recipe, tokens: Int32Array.from(corpus), data: { source: 'tool-dialogues seed 1 + the demo questions' }, out: join(dir, 'run') })
  const { path } = await exportGguf({ run: join(dir, 'run'), out: resolve(values.out) })
  process.stdout.write(`wrote ${path} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`)
} finally {
  await backend.close()
  await rm(dir, { recursive: true, force: true })
}
