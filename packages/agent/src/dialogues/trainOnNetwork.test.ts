import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import writeFileAtomic from 'write-file-atomic'
import { readGgufFileInfo } from 'node-llama-cpp'
import { AGENT_MODEL_RUN } from './agentModel.ts'

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'trainOnNetwork.ts')
const RECIPE = join(import.meta.dirname, '..', '..', '..', '..', 'recipes', 'agent-small.json')

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-agent-network-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

const records = async (dir: string): Promise<Array<{ step: number, state: string }>> =>
  (await readFile(join(dir, 'transcript.jsonl'), 'utf8')).trim().split('\n').map(line => JSON.parse(line) as { step: number, state: string })

describe('trainOnNetwork.ts (the agent model trained by a job on a local devnet)', () => {
  it('commits the dialogues, posts the job, has it trained, attested and finalized, and exports the verified run: its first steps are the shipped run\'s', { timeout: 600_000 }, async () => {
    // The agent recipe cut to 2 steps (inside its warm-up, so the learning rates of those steps are the full run's).
    const recipe = { ...JSON.parse(await readFile(RECIPE, 'utf8')) as Record<string, unknown>, steps: 2, checkpointInterval: 2 }
    await writeFileAtomic(join(root, 'recipe.json'), JSON.stringify(recipe))
    const out = join(root, 'out')
    const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT, '--recipe', join(root, 'recipe.json'), '--tokenizer', join(AGENT_MODEL_RUN, 'tokenizer.json'), '--out', out, '--check-steps', '1', '--json'], { maxBuffer: 64 << 20 })
    const facts = JSON.parse(stdout) as { job: string, runCid: string, finalStateRoot: string, transcriptRoot: string, trainer: string, validator: string }
    assert.equal(facts.job, '0')
    const trained = await records(join(out, 'run'))
    assert.equal(trained.length, 3)
    assert.equal(facts.finalStateRoot, trained.at(-1)?.state)
    // Training is deterministic: the network's S_0..S_2 are those of the shipped model's run.
    assert.deepEqual(trained.map(r => r.state), (await records(AGENT_MODEL_RUN)).slice(0, 3).map(r => r.state))
    const gguf = await readGgufFileInfo(join(out, 'agent.gguf'))
    const commons = (gguf.metadata as unknown as { commons: { state_root: string, transcript_root?: string } }).commons
    assert.equal(commons.state_root, facts.finalStateRoot)
    assert.equal(commons.transcript_root, facts.transcriptRoot)
  })

  it('refuses a tokenizer that is not the one the recipe names, before it starts a chain', { timeout: 120_000 }, async () => {
    await writeFileAtomic(join(root, 'other-tokenizer.json'), '{"not": "the recipe\'s tokenizer"}')
    const run = promisify(execFile)(process.execPath, [SCRIPT, '--tokenizer', join(root, 'other-tokenizer.json'), '--out', join(root, 'refused')])
    await assert.rejects(run, (error: { code: number, stderr: string }) => error.code === 1 && /^error: TrainOnNetworkError: /m.test(error.stderr))
  })
})
