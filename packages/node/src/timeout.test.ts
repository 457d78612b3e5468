import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEther } from 'viem'
import { advanceTime, connect, deploy, devnetAccount, readJob, registerAndStake, startDevnet, transferTokens, type Deployment, type Devnet } from '@commons/chain'
import { readRecipe, type Recipe } from '@commons/engine'
import { commitVersion, generateRows, initDataset, rowsToBytes } from '@commons/store'
import { parseFault } from './faults.ts'
import { peerIdBytes, startNode, type CommonsNode } from './node.ts'
import { startRpcProxy, type RpcProxy } from './testing/rpcProxy.ts'
import { until as waitUntil, type Check } from './testing/until.ts'

const MOVE_TIME = 300
let root: string
let devnet: Devnet
/** The nodes reach the chain through a provider that caps eth_getLogs at 1,000 blocks. */
let proxy: RpcProxy
let deployment: Deployment
const nodes: CommonsNode[] = []

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-timeout-'))
  devnet = await startDevnet({ home: join(root, 'chain') })
  const bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = { ...await deploy(bank, { moveTime: BigInt(MOVE_TIME), disputeBond: parseEther('10') }), rpcUrl: devnet.rpcUrl }
  proxy = await startRpcProxy({ target: devnet.rpcUrl, maxLogRange: 1000 })
})

after(async () => {
  for (const node of nodes) await node.stop().catch(() => {})
  await proxy?.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

const until = async (what: string, check: Check, timeoutMs = 120_000): Promise<void> => waitUntil(what, check, { timeoutMs, everyMs: 100 })

describe('a trainer that stops answering a dispute', () => {
  it('is slashed when the validator ends the dispute by timeout', async () => {
    const bank = await connect(devnet.rpcUrl, devnetAccount(0))
    const start = async (name: string, roles: Parameters<typeof startNode>[0]['roles'], extra: Partial<Parameters<typeof startNode>[0]> = {}): Promise<CommonsNode> => {
      const node = await startNode({ home: join(root, name), rpcUrl: proxy.url, deployment, roles, password: 'x', scryptN: 2 ** 10, apiPort: false, pollMs: 200, ...extra })
      nodes.push(node)
      await bank.wallet.sendTransaction({ to: node.address, value: parseEther('5') })
      await transferTokens(bank, deployment, node.address, parseEther('2000'))
      return node
    }
    const requester = await start('requester', ['requester'])
    const cheater = await start('trainer', ['trainer'], { fault: parseFault('step=1,op=0', 1) })
    const validator = await start('validator', ['validator'], { checkSteps: 4 })
    for (const [node, role] of [[cheater, 'trainer'], [validator, 'validator']] as const) {
      await registerAndStake(node.clients, deployment, { peerId: peerIdBytes(node.peerId), roles: [role], amount: parseEther('500') })
      await node.network.connect(requester.network.multiaddrs()[0])
    }
    await validator.network.connect(cheater.network.multiaddrs()[0])

    const source = join(root, 'corpus')
    await mkdir(source, { recursive: true })
    await writeFile(join(source, 'rows.jsonl'), rowsToBytes(generateRows(50_000, 9)))
    await initDataset(requester.store, 'corpus')
    const version = (await commitVersion(requester.store, { name: 'corpus', path: source, message: 'rows' })).cid.toString()
    const tiny = await readRecipe(fileURLToPath(new URL('../../../recipes/tiny.json', import.meta.url)))
    const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 4, checkpointInterval: 2 }
    const jobId = await requester.postJob({ datasetCid: version, recipe, reward: parseEther('100'), jobStake: parseEther('100') })

    // The trainer vanishes once the validator has its run, before any dispute.
    // (Its check is recorded when taken up, before the fetch: the run's transcript in the validator's home says it is had.)
    await until('the validator to fetch the run', async () => stat(join(root, 'validator', 'validate', `job-${jobId}`, 'transcript.json')).then(() => true, () => false), 120_000)
    await cheater.stop()
    nodes.splice(nodes.indexOf(cheater), 1)
    await until('the validator to open a dispute', async () => validator.state.disputes().length > 0, 120_000)
    await advanceTime(devnet.rpcUrl, MOVE_TIME + 1)
    await until('the job to be slashed', async () => (await readJob(bank, deployment, jobId)).statusName === 'slashed')
    await until('the validator to record the outcome', async () => validator.state.disputes().some(d => d.status.startsWith('resolved')))
    const dispute = validator.state.disputes()[0]
    assert.equal(dispute.detail.reason, 'trace-timeout')
    assert.equal(dispute.detail.winner, 'challenger')
    assert.equal(proxy.refusedRanges, 0)
  })
})
