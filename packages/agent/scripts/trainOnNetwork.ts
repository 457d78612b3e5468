/**
 * Trains the demo's agent model the way every Commons model is trained: by a job on the
 * network. On a local devnet (anvil) with three nodes on loopback, the same roles the demo
 * uses, a curator commits the tool-use dialogues as a dataset and gives it a DAO, then
 * posts a training job with the agent recipe; a staked trainer claims and trains it, a
 * staked validator replays drawn steps and attests, the challenge window passes and the
 * job is finalized; the curator fetches the run by CID, verifies it against the chain and
 * exports it to GGUF:
 *
 *   node packages/agent/scripts/trainOnNetwork.ts [--recipe recipes/agent-small.json] [--tokenizer FILE]
 *        [--out packages/agent/model] [--check-steps 3] [--json]
 *
 * Writes OUT/agent.gguf (and its Modelfile) and OUT/run/{run.json, tokenizer.json,
 * transcript.jsonl}, what `commons replay` needs; prints the job's facts (its run CID,
 * final state root and transcript root, which are the same on any machine). The corpus is
 * generated from the agent model's dialogues (agentModel.ts), committed with a fixed author
 * and time, so its version CID is the same everywhere.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { parseEther } from 'viem'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import writeFileAtomic from 'write-file-atomic'
import { openBackend, readRecipe } from '@commons/engine'
import { advanceTime, connect, createDao, deploy, devnetAccount, readJob, registerAndStake, startDevnet, transferTokens } from '@commons/chain'
import { commitVersion, initDataset, putRaw } from '@commons/store'
import { exportGguf } from '@commons/models'
import { peerIdBytes, startNode, type CommonsNode } from '@commons/node'
import { agentModelDialogues, corpusText } from '../src/dialogues/agentModel.ts'

const ROOT = resolve(import.meta.dirname, '..', '..', '..')
const { values } = parseArgs({
  options: {
    recipe: { type: 'string', default: join(ROOT, 'recipes', 'agent-small.json') },
    tokenizer: { type: 'string', default: join(ROOT, 'packages', 'agent', 'model', 'run', 'tokenizer.json') },
    out: { type: 'string', default: join(ROOT, 'packages', 'agent', 'model') },
    'check-steps': { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    json: { type: 'boolean' },
    help: { type: 'boolean' }
  }
})
if (values.help === true) {
  process.stdout.write('usage: node packages/agent/scripts/trainOnNetwork.ts [--recipe FILE] [--tokenizer tokenizer.json] [--out DIR] [--check-steps N] [--threads N] [--json]\n')
  process.exit(0)
}
const say = (line: string): void => { process.stderr.write(`${line}\n`) }
/** What went wrong once the chain runs: thrown, so the chain and the nodes are stopped before the script ends. */
class TrainOnNetworkError extends Error { override name = 'TrainOnNetworkError' }
const fail = (message: string): never => { throw new TrainOnNetworkError(message) }

const CHALLENGE_WINDOW = 600n
const recipe = await readRecipe(resolve(values.recipe))
const tokenizerJson = await readFile(resolve(values.tokenizer))
// The tokenizer is stored as a raw block: its CID is the one the recipe must name.
const tokenizer = CID.create(1, raw.code, await sha256.digest(tokenizerJson)).toString()
const refuse = (message: string): never => {
  process.stderr.write(`error: TrainOnNetworkError: ${message}\n`)
  process.exit(1)
}
if (tokenizer !== recipe.tokenizer) refuse(`${values.tokenizer} is ${tokenizer}, but the recipe names the tokenizer ${recipe.tokenizer} (pass --tokenizer the tokenizer.json commons tokenizer train wrote for it)`)
const checkSteps = Number(values['check-steps'])
if (!Number.isSafeInteger(checkSteps) || checkSteps < 1) refuse(`--check-steps must be a whole number >= 1, got ${values['check-steps']}`)
if (!Number.isSafeInteger(Number(values.threads)) || Number(values.threads) < 1) refuse(`--threads must be a whole number >= 1, got ${values.threads}`)
const out = resolve(values.out)
const work = await mkdtemp(join(tmpdir(), 'commons-agent-train-'))
const backend = openBackend('auto', Number(values.threads))
const devnet = await startDevnet({ home: work })
const nodes: CommonsNode[] = []
const started = Date.now()
try {
  say(`[1/7] local chain at ${devnet.rpcUrl}; deploying the contracts`)
  const bank = await connect(devnet.rpcUrl, devnetAccount(0))
  const deployment = { ...await deploy(bank, { disputeBond: parseEther('50'), moveTime: 600n }), rpcUrl: devnet.rpcUrl }

  say('[2/7] nodes on loopback: a curator who requests, a trainer, a validator')
  const start = async (name: string, roles: Parameters<typeof startNode>[0]['roles'], extra: Partial<Parameters<typeof startNode>[0]> = {}): Promise<CommonsNode> => {
    const node = await startNode({
      home: join(work, 'nodes', name), rpcUrl: devnet.rpcUrl, deployment, roles, password: 'commons-agent-train', scryptN: 2 ** 12,
      engine: backend.ctx, log: line => { say(`      ${name}: ${line}`) }, pollMs: 500, ...extra
    })
    nodes.push(node)
    return node
  }
  const curator = await start('curator', ['requester', 'curator'])
  const trainer = await start('trainer', ['trainer'])
  const validator = await start('validator', ['validator'], { checkSteps })
  for (const [i, node] of nodes.entries()) for (const other of nodes.slice(i + 1)) await node.network.connect(other.network.multiaddrs()[0])
  for (const [node, tokens] of [[curator, '2000'], [trainer, '1000'], [validator, '1000']] as const) {
    await bank.wallet.sendTransaction({ to: node.address, value: parseEther('10') })
    await transferTokens(bank, deployment, node.address, parseEther(tokens))
  }
  for (const [node, role] of [[trainer, 'trainer'], [validator, 'validator']] as const) {
    await registerAndStake(node.clients, deployment, { peerId: peerIdBytes(node.peerId), roles: [role], amount: parseEther('500') })
  }

  say('[3/7] the curator commits the tool-use dialogues as a dataset, and stores the tokenizer the recipe names')
  const corpus = join(work, 'corpus')
  await mkdir(corpus)
  await writeFileAtomic(join(corpus, 'corpus.txt'), corpusText(agentModelDialogues()))
  await initDataset(curator.store, 'tool-dialogues')
  // Fixed author and time: the version CID is the one the model's README names, on any machine.
  const version = (await commitVersion(curator.store, { name: 'tool-dialogues', path: corpus, message: 'tool-use dialogues, seed 1', author: 'commons', time: 1764547200 })).cid.toString()
  await putRaw(curator.store.blocks, tokenizerJson)
  say(`      version ${version}\n      tokenizer ${tokenizer}`)

  say('[4/7] the dataset gets its DAO, the curator its only member')
  const { dao } = await createDao(curator.clients, deployment, { name: 'tool-dialogues', head: version, members: [{ account: curator.address, shares: 100n }] })
  say(`      DAO ${dao}`)

  say(`[5/7] the curator posts a job: ${recipe.name}, ${recipe.steps} steps`)
  const jobId = await curator.postJob({ datasetCid: version, recipe, reward: parseEther('300'), jobStake: parseEther('200'), challengeWindow: CHALLENGE_WINDOW, trainingTime: 24n * 3600n })
  const until = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    let last = 0
    while (!(await check())) {
      if (Date.now() - last > 30_000) { say(`      waiting for ${what} (${((Date.now() - started) / 1000).toFixed(0)} s)`); last = Date.now() }
      await new Promise(resolve => setTimeout(resolve, 1000))
    }
  }
  await until('the trainer to train and submit, and the validator to attest', async () => {
    const job = await readJob(bank, deployment, jobId)
    if (job.statusName === 'slashed' || job.statusName === 'cancelled') fail(`job ${jobId} ended ${job.statusName}`)
    return job.statusName === 'submitted' && validator.state.job(jobId, 'validator')?.status === 'attested'
  })

  say('[6/7] the challenge window passes; the job is finalized')
  await advanceTime(devnet.rpcUrl, Number(CHALLENGE_WINDOW) + 1)
  await until('the job to be finalized', async () => (await readJob(bank, deployment, jobId)).statusName === 'finalized')
  const job = await readJob(bank, deployment, jobId)

  say('[7/7] the curator fetches the run by CID, verifies it, and exports it to GGUF')
  const check = await curator.verifyModel(jobId)
  if (!check.verified) fail(`the run of job ${jobId} does not verify: ${check.problems.join('; ')}`)
  await mkdir(join(out, 'run'), { recursive: true })
  for (const file of ['run.json', 'tokenizer.json', 'transcript.jsonl']) await copyFile(join(check.dir, file), join(out, 'run', file))
  const gguf = await exportGguf({ run: check.dir, out: join(out, 'agent.gguf'), jobId: String(jobId) })
  const records = (await readFile(join(check.dir, 'transcript.jsonl'), 'utf8')).trim().split('\n')
  const facts = {
    dataset: version, tokenizer, dao, job: String(jobId), runCid: check.runCid, trainer: job.trainer, validator: validator.address,
    steps: recipe.steps, finalStateRoot: (JSON.parse(records.at(-1) ?? '{}') as { state?: string }).state, transcriptRoot: job.transcriptRoot,
    gguf: gguf.path, seconds: Math.round((Date.now() - started) / 1000)
  }
  process.stdout.write(values.json === true ? JSON.stringify(facts, null, 2) + '\n' : Object.entries(facts).map(([k, v]) => `${k.padEnd(16)} ${String(v)}`).join('\n') + '\n')
} catch (error) {
  process.stderr.write(`error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`)
  process.exitCode = 1
} finally {
  for (const node of nodes.reverse()) await node.stop().catch(() => {})
  await devnet.stop()
  await backend.close()
  await rm(work, { recursive: true, force: true })
}
