import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { connect, deploy, devnetAccount, readJob, registerAndStake, startDevnet, transferTokens, writeManifest, type Deployment, type Devnet } from '@commons/chain'
import { readRecipe, referenceContext, train, type Recipe } from '@commons/engine'
import { commitVersion, generateRows, initDataset, rowsToBytes, tokenizeVersion } from '@commons/store'
import { loadOrCreateKey } from './keystore.ts'
import { startNode, type CommonsNode } from './node.ts'
import { startRpcProxy, type RpcProxy } from './testing/rpcProxy.ts'
import { until as waitUntil, type Check } from './testing/until.ts'

const CLI = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url))
const PASSWORD = 'restart-test'
/** The tiny transformer, long enough to be killed in the middle. */
const recipe: Recipe = { ...await readRecipe(fileURLToPath(new URL('../../../recipes/tiny.json', import.meta.url))), steps: 60, checkpointInterval: 10 }

let root: string
let devnet: Devnet
/** The trainer reaches the chain through a provider that caps eth_getLogs at 1,000 blocks. */
let proxy: RpcProxy
let deployment: Deployment
let requester: CommonsNode
let trainerHome: string
const children: ChildProcess[] = []

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-restart-'))
  devnet = await startDevnet({ home: join(root, 'chain-home') })
  const bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = { ...await deploy(bank), rpcUrl: devnet.rpcUrl }
  proxy = await startRpcProxy({ target: devnet.rpcUrl, maxLogRange: 1000 })
  requester = await startNode({ home: join(root, 'requester'), rpcUrl: proxy.url, deployment, roles: ['requester'], password: PASSWORD, scryptN: 2 ** 12, apiPort: false })
  await bank.wallet.sendTransaction({ to: requester.address, value: parseEther('5') })
  await transferTokens(bank, deployment, requester.address, parseEther('5000'))
  // The trainer's home: its encrypted key (made here so it can be funded first) and the deployment.
  trainerHome = join(root, 'trainer')
  await writeManifest(join(trainerHome, 'chain', 'deployment.json'), deployment)
  const { privateKey } = await loadOrCreateKey(join(trainerHome, 'node', 'keystore.json'), { password: PASSWORD, scryptN: 2 ** 12 })
  const trainer = privateKeyToAccount(privateKey)
  await bank.wallet.sendTransaction({ to: trainer.address, value: parseEther('5') })
  await transferTokens(bank, deployment, trainer.address, parseEther('2000'))
  await registerAndStake(await connect(devnet.rpcUrl, privateKey), deployment, { peerId: '0x01', roles: ['trainer'], amount: parseEther('1000') })
})

after(async () => {
  for (const child of children) child.kill('SIGKILL')
  await requester?.stop()
  await proxy?.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

/** `commons node start` as a trainer, in its own process. */
function startTrainer (log: string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI, 'node', 'start', '--roles', 'trainer', '--home', trainerHome, '--rpc', proxy.url, '--api-port', '0',
    '--bootstrap', requester.network.multiaddrs()[0]], { env: { ...process.env, COMMONS_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()))
  children.push(child)
  return child
}

const until = async (what: string, check: Check, timeoutMs = 120_000): Promise<void> => waitUntil(what, check, { timeoutMs, everyMs: 50 })

describe('a trainer killed mid-job', () => {
  it('resumes from its last checkpoint after a restart and submits the same final root', async () => {
    const source = join(root, 'corpus')
    await mkdir(source, { recursive: true })
    await writeFile(join(source, 'rows.jsonl'), rowsToBytes(generateRows(100_000, 5)))
    await initDataset(requester.store, 'corpus')
    const version = (await commitVersion(requester.store, { name: 'corpus', path: source, message: 'rows' })).cid.toString()
    const jobId = await requester.postJob({ datasetCid: version, recipe, reward: parseEther('100'), jobStake: parseEther('100') })

    const log: string[] = []
    const first = startTrainer(log)
    const checkpoints = join(trainerHome, 'runs', `job-${jobId}`, 'checkpoints')
    await until('the trainer to pass its second checkpoint', async () => (await readdir(checkpoints).catch(() => [] as string[])).includes('step-0000020.safetensors'))
    first.kill('SIGKILL')
    await new Promise(resolve => first.once('exit', resolve))
    assert.notEqual((await readJob(requester.clients, deployment, jobId)).statusName, 'submitted', 'killed before it submitted')
    // Killed mid-run, not after the last step: what the restart resumes is an unfinished run.
    const cut = (await readFile(join(trainerHome, 'runs', `job-${jobId}`, 'transcript.jsonl'), 'utf8')).split('\n').filter(l => l.trim() !== '').length
    assert.ok(cut < recipe.steps, `killed at ${cut} of ${recipe.steps} steps`)
    assert.equal((await readdir(join(trainerHome, 'runs', `job-${jobId}`))).includes('model.safetensors'), false, 'no final model yet')

    startTrainer(log)
    await until('the restarted trainer to submit', async () => (await readJob(requester.clients, deployment, jobId)).statusName === 'submitted')
    assert.match(log.join(''), /resuming the run from its last checkpoint/)

    const { tokens } = await tokenizeVersion(requester.store, version, 'byte')
    const uninterrupted = await train(referenceContext(), { recipe, tokens, data: { source: 'reference' }, out: join(root, 'reference') })
    const job = await readJob(requester.clients, deployment, jobId)
    assert.equal(job.transcriptRoot, uninterrupted.transcriptRoot)
    const transcript = await readFile(join(trainerHome, 'runs', `job-${jobId}`, 'transcript.jsonl'), 'utf8')
    assert.equal(transcript.trim().split('\n').length, recipe.steps + 1, 'one record per step, none twice')
  })
})
