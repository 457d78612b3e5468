import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEther } from 'viem'
import { connect, deploy, devnetAccount, readDispute, readJob, registerAndStake, startDevnet, transferTokens, type Deployment, type Devnet } from '@commons/chain'
import { readRecipe, type Recipe } from '@commons/engine'
import { commitVersion, generateRows, initDataset, openStore, putRaw, rowsToBytes, type Store } from '@commons/store'
import { TOPICS } from './constants.ts'
import { parseFault } from './faults.ts'
import { startNetwork, type NetworkNode } from './network.ts'
import { peerIdBytes, startNode, type CommonsNode } from './node.ts'
import { startRpcProxy, type RpcProxy } from './testing/rpcProxy.ts'
import { until as waitUntil, type Check } from './testing/until.ts'

/**
 * An honest challenger loses a dispute only by being wrong: not because its move's
 * transaction failed (the validator's RPC drops its pinpoint twice), not because
 * another peer gossiped a forged op trace for the dispute, and not because the trainer
 * was busy: the cheating trainer is training its next job while it is disputed, and
 * still answers every move.
 */

let root: string
let devnet: Devnet
let proxy: RpcProxy
let deployment: Deployment
let forgerStore: Store
let forger: NetworkNode
const nodes: CommonsNode[] = []
const lines: string[] = []

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-disputes-'))
  devnet = await startDevnet({ home: join(root, 'chain') })
  proxy = await startRpcProxy({ target: devnet.rpcUrl, maxLogRange: 1000 })
  const bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = { ...await deploy(bank, { disputeBond: parseEther('10'), moveTime: 600n }), rpcUrl: devnet.rpcUrl }
  forgerStore = await openStore(join(root, 'forger'))
  forger = await startNetwork({ blockstore: forgerStore.blocks })
})

after(async () => {
  for (const node of nodes) await node.stop().catch(() => {})
  await forger?.stop()
  await forgerStore?.close()
  await proxy?.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

const until = async (what: string, check: Check, timeoutMs = 120_000): Promise<void> => waitUntil(what, check, { timeoutMs, everyMs: 100, said: () => lines.slice(-40).join('\n') })

describe('a dispute with a flaky RPC, a forger and a busy trainer', () => {
  it('the honest challenger still wins by pinpointing the lie', { timeout: 300_000 }, async () => {
    const bank = await connect(devnet.rpcUrl, devnetAccount(0))
    const start = async (name: string, roles: Parameters<typeof startNode>[0]['roles'], extra: Partial<Parameters<typeof startNode>[0]> = {}): Promise<CommonsNode> => {
      const node = await startNode({ home: join(root, name), rpcUrl: devnet.rpcUrl, deployment, roles, password: 'x', scryptN: 2 ** 10, apiPort: false, pollMs: 200, log: line => lines.push(`${name}: ${line}`), ...extra })
      nodes.push(node)
      await bank.wallet.sendTransaction({ to: node.address, value: parseEther('5') })
      await transferTokens(bank, deployment, node.address, parseEther('5000'))
      return node
    }
    const requester = await start('requester', ['requester'])
    const cheater = await start('trainer', ['trainer'], { fault: parseFault('step=1,op=0', 1) })
    const validator = await start('validator', ['validator'], { rpcUrl: proxy.url, checkSteps: 4 })
    for (const [node, role] of [[cheater, 'trainer'], [validator, 'validator']] as const) {
      await registerAndStake(node.clients, deployment, { peerId: peerIdBytes(node.peerId), roles: [role], amount: parseEther('1000') })
      await node.network.connect(requester.network.multiaddrs()[0])
    }
    await validator.network.connect(cheater.network.multiaddrs()[0])
    await forger.connect(validator.network.multiaddrs()[0])

    const source = join(root, 'corpus')
    await mkdir(source, { recursive: true })
    await writeFile(join(source, 'rows.jsonl'), rowsToBytes(generateRows(50_000, 9)))
    await initDataset(requester.store, 'corpus')
    const version = (await commitVersion(requester.store, { name: 'corpus', path: source, message: 'rows' })).cid.toString()
    const tiny = await readRecipe(fileURLToPath(new URL('../../../recipes/tiny.json', import.meta.url)))
    const short: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 4, checkpointInterval: 2 }
    const long: Recipe = { ...short, steps: 50_000, checkpointInterval: 1000 }
    const params = { datasetCid: version, reward: parseEther('100'), jobStake: parseEther('100') }
    const a = await requester.postJob({ ...params, recipe: short })
    await until('job A to be submitted', async () => (await readJob(bank, deployment, a)).statusName === 'submitted')
    // The trainer takes a long job B: it trains it while job A is disputed.
    const b = await requester.postJob({ ...params, recipe: long })
    await until('the trainer to train job B', () => cheater.state.run(b)?.status === 'training')

    await until('the validator to open a dispute on job A', () => validator.state.disputes().some(d => d.jobId === String(a)))
    const id = BigInt(validator.state.disputes().find(d => d.jobId === String(a))?.id ?? -1)
    // Its RPC drops its next two transactions (the pinpoint), and a forger gossips a trace of its own.
    proxy.failNext('eth_sendRawTransaction', 2)
    const forged = (await putRaw(forgerStore.blocks, new TextEncoder().encode('not a trace'))).toString()
    const forging = setInterval(() => { void forger.publish(TOPICS.checkpoints, { kind: 'trace', disputeId: String(id), cid: forged }) }, 50)
    try {
      await until('the dispute to resolve', async () => (await readDispute(bank, deployment, id)).resolved, 240_000)
    } finally {
      clearInterval(forging)
    }
    const d = await readDispute(bank, deployment, id)
    assert.equal(d.winner, 'challenger')
    assert.equal(d.reasonName, 'mismatch')
    assert.equal(proxy.failed, 2, 'both dropped transactions were retried')
    assert.equal((await readJob(bank, deployment, a)).statusName, 'slashed')
    assert.ok(lines.some(line => line.startsWith('validator: ') && line.includes('ignored a trace announced by') && line.includes(forger.peerId)), 'the forged announcement reached the validator and was ignored')
    assert.equal(cheater.state.run(b)?.status, 'training', 'job B was still in training when A\'s dispute ended')
    await until('the validator to record the outcome', () => validator.state.disputes().some(r => r.id === String(id) && r.status.startsWith('resolved')))
  })
})
