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
  connect, deploy, devnetAccount, disputeGameAbi, readDispute, readJob, registerAndStake, startDevnet, transferTokens, writeManifest,
  type Deployment, type Devnet
} from '@commons/chain'
import { readRecipe, type Recipe } from '@commons/engine'
import { commitVersion, generateRows, initDataset, rowsToBytes } from '@commons/store'
import { parseFault } from './faults.ts'
import { loadOrCreateKey } from './keystore.ts'
import { PHASE } from './moves.ts'
import { peerIdBytes, startNode, type CommonsNode } from './node.ts'
import { startRpcProxy, type RpcProxy } from './testing/rpcProxy.ts'
import { until as waitUntil, type Check } from './testing/until.ts'

/** A validator killed (SIGKILL) right after it opened a dispute, restarted once the trainer has moved. */

const CLI = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url))
const PASSWORD = 'validator-restart'
let root: string
let devnet: Devnet
/** Every node talks to the chain through a provider that caps eth_getLogs at 1,000 blocks. */
let proxy: RpcProxy
let deployment: Deployment
let validatorHome: string
const nodes: CommonsNode[] = []
const children: ChildProcess[] = []
const log: string[] = []

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-vrestart-'))
  devnet = await startDevnet({ home: join(root, 'chain') })
  proxy = await startRpcProxy({ target: devnet.rpcUrl, maxLogRange: 1000 })
  const bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = { ...await deploy(bank, { disputeBond: parseEther('10'), moveTime: 600n }), rpcUrl: devnet.rpcUrl }
  validatorHome = join(root, 'validator')
  await writeManifest(join(validatorHome, 'chain', 'deployment.json'), deployment)
  const { privateKey } = await loadOrCreateKey(join(validatorHome, 'node', 'keystore.json'), { password: PASSWORD, scryptN: 2 ** 12 })
  await bank.wallet.sendTransaction({ to: privateKeyToAccount(privateKey).address, value: parseEther('5') })
  await transferTokens(bank, deployment, privateKeyToAccount(privateKey).address, parseEther('2000'))
  await registerAndStake(await connect(devnet.rpcUrl, privateKey), deployment, { peerId: '0x01', roles: ['validator'], amount: parseEther('500') })
})

after(async () => {
  for (const child of children) child.kill('SIGKILL')
  for (const node of nodes) await node.stop().catch(() => {})
  assert.equal(proxy?.refusedRanges ?? 0, 0, 'no node asked for more than 1,000 blocks of logs')
  await proxy?.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

const until = async (what: string, check: Check, timeoutMs = 120_000): Promise<void> => waitUntil(what, check, { timeoutMs, everyMs: 25, said: () => log.join('').split('\n').slice(-30).join('\n') })

function startValidator (peers: string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI, 'node', 'start', '--roles', 'validator', '--home', validatorHome, '--rpc', proxy.url, '--api-port', '0',
    '--check-steps', '4', ...peers.flatMap(p => ['--bootstrap', p])], { env: { ...process.env, COMMONS_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()))
  children.push(child)
  return child
}

describe('a validator killed mid-dispute', () => {
  it('takes the dispute up again from the chain and its checkpoints after a restart, and wins', { timeout: 300_000 }, async () => {
    const bank = await connect(devnet.rpcUrl, devnetAccount(0))
    const start = async (name: string, roles: Parameters<typeof startNode>[0]['roles'], extra: Partial<Parameters<typeof startNode>[0]> = {}): Promise<CommonsNode> => {
      const node = await startNode({ home: join(root, name), rpcUrl: proxy.url, deployment, roles, password: 'x', scryptN: 2 ** 10, apiPort: false, pollMs: 200, ...extra })
      nodes.push(node)
      await bank.wallet.sendTransaction({ to: node.address, value: parseEther('5') })
      await transferTokens(bank, deployment, node.address, parseEther('5000'))
      return node
    }
    const requester = await start('requester', ['requester'])
    const cheater = await start('trainer', ['trainer'], { fault: parseFault('step=1,op=0', 1) })
    await registerAndStake(cheater.clients, deployment, { peerId: peerIdBytes(cheater.peerId), roles: ['trainer'], amount: parseEther('1000') })
    await cheater.network.connect(requester.network.multiaddrs()[0])
    const peers = [requester.network.multiaddrs()[0], cheater.network.multiaddrs()[0]]

    const source = join(root, 'corpus')
    await mkdir(source, { recursive: true })
    await writeFile(join(source, 'rows.jsonl'), rowsToBytes(generateRows(50_000, 9)))
    await initDataset(requester.store, 'corpus')
    const version = (await commitVersion(requester.store, { name: 'corpus', path: source, message: 'rows' })).cid.toString()
    const tiny = await readRecipe(fileURLToPath(new URL('../../../recipes/tiny.json', import.meta.url)))
    const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 4, checkpointInterval: 2 }

    const first = startValidator(peers)
    const jobId = await requester.postJob({ datasetCid: version, recipe, reward: parseEther('100'), jobStake: parseEther('100') })
    const opened = async (): Promise<bigint | undefined> => {
      const events = await bank.public.getContractEvents({ address: deployment.contracts.disputeGame, abi: disputeGameAbi, eventName: 'DisputeOpened', fromBlock: BigInt(deployment.block) })
      return events.find(e => e.args.jobId === jobId)?.args.id
    }
    await until('the validator to open a dispute', async () => (await opened()) !== undefined)
    first.kill('SIGKILL')
    await new Promise(resolve => first.once('exit', resolve))
    const id = await opened() as bigint
    // The trainer answers while the validator is down; the pinpoint is the validator's to make.
    await until('the trainer to post its trace', async () => (await readDispute(bank, deployment, id)).phase === PHASE.awaitPinpoint)
    assert.equal((await readDispute(bank, deployment, id)).phase, PHASE.awaitPinpoint, 'the validator had not pinpointed before it was killed')

    startValidator(peers)
    await until('the dispute to resolve', async () => (await readDispute(bank, deployment, id)).resolved, 180_000)
    const d = await readDispute(bank, deployment, id)
    assert.equal(d.winner, 'challenger')
    assert.equal(d.reasonName, 'mismatch')
    assert.equal((await readJob(bank, deployment, jobId)).statusName, 'slashed')
    assert.match(log.join(''), /taken up again after a restart/)
  })
})
