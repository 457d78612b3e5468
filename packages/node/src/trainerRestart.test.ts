import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import {
  Challenger, connect, deploy, devnetAccount, readDispute, readJob, registerAndStake, startDevnet, transferTokens, writeManifest,
  type Deployment, type Devnet
} from '@commons/chain'
import { compileProgram, readRecipe, readRecords, referenceContext, runStateAt, type Recipe } from '@commons/engine'
import { commitVersion, generateRows, initDataset, rowsToBytes, tokenizeVersion } from '@commons/store'
import { loadOrCreateKey } from './keystore.ts'
import { PHASE } from './moves.ts'
import { startNode, type CommonsNode } from './node.ts'
import { startRpcProxy, type RpcProxy } from './testing/rpcProxy.ts'
import { until as waitUntil, type Check } from './testing/until.ts'

/**
 * An honest trainer killed (SIGKILL) while a bogus dispute against it runs, and
 * restarted: it still answers each move and wins. Killed once after posting its trace,
 * it is restarted after the challenger's pinpoint and must reveal.
 */

const CLI = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url))
const PASSWORD = 'trainer-restart'
let root: string
let devnet: Devnet
/** Every node talks to the chain through a provider that caps eth_getLogs at 1,000 blocks. */
let proxy: RpcProxy
let deployment: Deployment
let trainerHome: string
let requester: CommonsNode
const children: ChildProcess[] = []
const log: string[] = []

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-trestart-'))
  devnet = await startDevnet({ home: join(root, 'chain') })
  proxy = await startRpcProxy({ target: devnet.rpcUrl, maxLogRange: 1000 })
  const bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = { ...await deploy(bank, { disputeBond: parseEther('10'), moveTime: 600n }), rpcUrl: devnet.rpcUrl }
  requester = await startNode({ home: join(root, 'requester'), rpcUrl: proxy.url, deployment, roles: ['requester'], password: 'x', scryptN: 2 ** 10, apiPort: false })
  await bank.wallet.sendTransaction({ to: requester.address, value: parseEther('5') })
  await transferTokens(bank, deployment, requester.address, parseEther('5000'))
  trainerHome = join(root, 'trainer')
  await writeManifest(join(trainerHome, 'chain', 'deployment.json'), deployment)
  const { privateKey } = await loadOrCreateKey(join(trainerHome, 'node', 'keystore.json'), { password: PASSWORD, scryptN: 2 ** 12 })
  await bank.wallet.sendTransaction({ to: privateKeyToAccount(privateKey).address, value: parseEther('5') })
  await transferTokens(bank, deployment, privateKeyToAccount(privateKey).address, parseEther('2000'))
  await registerAndStake(await connect(devnet.rpcUrl, privateKey), deployment, { peerId: '0x01', roles: ['trainer'], amount: parseEther('1000') })
})

after(async () => {
  for (const child of children) child.kill('SIGKILL')
  await requester?.stop()
  assert.equal(proxy?.refusedRanges ?? 0, 0, 'no node asked for more than 1,000 blocks of logs')
  await proxy?.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

const until = async (what: string, check: Check, timeoutMs = 120_000): Promise<void> => waitUntil(what, check, { timeoutMs, everyMs: 25, said: () => log.join('').split('\n').slice(-30).join('\n') })

function startTrainer (): ChildProcess {
  const child = spawn(process.execPath, [CLI, 'node', 'start', '--roles', 'trainer', '--home', trainerHome, '--rpc', proxy.url, '--api-port', '0',
    '--bootstrap', requester.network.multiaddrs()[0]], { env: { ...process.env, COMMONS_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()))
  children.push(child)
  return child
}

async function kill (child: ChildProcess): Promise<void> {
  child.kill('SIGKILL')
  await new Promise(resolve => child.once('exit', resolve))
}

describe('an honest trainer killed mid-dispute', () => {
  it('answers the moves due after each restart and wins the bogus dispute', { timeout: 300_000 }, async () => {
    const bank = await connect(devnet.rpcUrl, devnetAccount(0))
    const source = join(root, 'corpus')
    await mkdir(source, { recursive: true })
    await writeFile(join(source, 'rows.jsonl'), rowsToBytes(generateRows(50_000, 9)))
    await initDataset(requester.store, 'corpus')
    const version = (await commitVersion(requester.store, { name: 'corpus', path: source, message: 'rows' })).cid.toString()
    const tiny = await readRecipe(fileURLToPath(new URL('../../../recipes/tiny.json', import.meta.url)))
    const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 4, checkpointInterval: 2 }

    let trainer = startTrainer()
    const jobId = await requester.postJob({ datasetCid: version, recipe, reward: parseEther('100'), jobStake: parseEther('100') })
    await until('the trainer to submit', async () => (await readJob(bank, deployment, jobId)).statusName === 'submitted')

    // A challenger with no case opens a dispute over step 1 anyway.
    const challengerClients = await connect(devnet.rpcUrl, devnetAccount(3))
    await transferTokens(bank, deployment, challengerClients.account.address, parseEther('1000'))
    await registerAndStake(challengerClients, deployment, { peerId: '0x02', roles: ['validator'], amount: parseEther('100') })
    const dir = join(trainerHome, 'runs', `job-${jobId}`)
    const { tokens } = await tokenizeVersion(requester.store, version, 'byte')
    const engine = referenceContext()
    const challenger = new Challenger(challengerClients, deployment, { engine, jobId, recipe, tokens, program: compileProgram(engine, recipe), records: await readRecords(dir) })
    const { id } = await challenger.open(1, await runStateAt(engine, dir, tokens, 1), { force: true })

    await until('the trainer to post its trace', async () => (await readDispute(bank, deployment, id)).phase === PHASE.awaitPinpoint)
    await kill(trainer)
    await challenger.pinpoint(id, async () => { throw new Error('not needed: the element is chosen') }, { op: 0, element: 0 })
    assert.equal((await readDispute(bank, deployment, id)).phase, PHASE.awaitReveal, 'the reveal is due while the trainer is down')

    trainer = startTrainer()
    await until('the dispute to resolve', async () => (await readDispute(bank, deployment, id)).resolved)
    const d = await readDispute(bank, deployment, id)
    assert.equal(d.winner, 'trainer')
    assert.equal(d.reasonName, 'match')
    await kill(trainer)
  })
})
