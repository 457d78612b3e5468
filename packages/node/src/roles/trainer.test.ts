import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CID } from 'multiformats/cid'
import { parseEther } from 'viem'
import { connect, deploy, devnetAccount, postJob, readJob, readStake, startDevnet, transferTokens, type Clients, type Deployment, type Devnet } from '@commons/chain'
import { readRecipe, type Recipe } from '@commons/engine'
import { commitVersion, generateRows, initDataset, openStore, rowsToBytes, type Store } from '@commons/store'
import { createNode, type CommonsNode } from '../createNode.ts'
import { startNetwork, type NetworkNode } from '../network.ts'
import { createNodeKey } from '../nodeKey.ts'
import { jobSpecFor } from './requester.ts'
import { NodeState } from '../state.ts'
import { until } from '../testing/until.ts'

/**
 * The trainer role alone, made of components a test hands in: a real anvil, a store
 * and a SQLite state in a temp dir, a network with no peers. No requester node, no
 * validator: the job is posted straight to the market, with its recipe and dataset put
 * in the trainer's own store, and the trainer claims, trains and submits it.
 */

let root: string
let devnet: Devnet
let bank: Clients
let deployment: Deployment
let store: Store
let network: NetworkNode
let state: NodeState
let trainer: CommonsNode | undefined
let recipe: Recipe
let version: string

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-trainer-alone-'))
  devnet = await startDevnet({ home: join(root, 'chain') })
  bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = { ...await deploy(bank), rpcUrl: devnet.rpcUrl }
  store = await openStore(join(root, 'trainer'))
  network = await startNetwork({ blockstore: store.blocks, privateKey: await createNodeKey() })
  state = new NodeState(join(root, 'trainer', 'state.db'))
  const source = join(root, 'corpus')
  await mkdir(source, { recursive: true })
  await writeFile(join(source, 'rows.jsonl'), rowsToBytes(generateRows(20_000, 5)))
  await initDataset(store, 'corpus')
  version = (await commitVersion(store, { name: 'corpus', path: source, message: 'rows' })).cid.toString()
  const tiny = await readRecipe(fileURLToPath(new URL('../../../../recipes/tiny.json', import.meta.url)))
  recipe = { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 4, checkpointInterval: 2 }
})

after(async () => {
  await trainer?.stop()
  await network?.stop()
  state?.close()
  await store?.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

describe('a trainer built from components', () => {
  it('registers and stakes, claims a posted job, trains and submits it, and leaves its components open', { timeout: 240_000 }, async () => {
    const clients = await connect(devnet.rpcUrl, devnetAccount(3))
    await transferTokens(bank, deployment, clients.account.address, parseEther('500'))
    const lines: string[] = []
    trainer = await createNode({ clients, store, network, state }, {
      home: join(root, 'trainer'), deployment, roles: ['trainer'], apiPort: false, pollMs: 100, stake: parseEther('200'), log: line => lines.push(line)
    })
    assert.equal((await readStake(bank, deployment, clients.account.address)).staked, parseEther('200'), 'createNode staked as its init said')

    const spec = await jobSpecFor(store, { datasetCid: version, recipe, reward: parseEther('50'), jobStake: parseEther('100') })
    const { jobId } = await postJob(bank, deployment, spec)
    await until(`the trainer to submit job ${jobId}`, async () => (await readJob(bank, deployment, jobId)).statusName === 'submitted', { timeoutMs: 180_000, said: () => lines.join('\n') })
    await trainer.idle()
    assert.equal(state.job(jobId, 'trainer')?.status, 'submitted')
    assert.equal(state.run(jobId)?.step, recipe.steps)
    assert.ok(trainer.timings.training > 0, 'the run was trained by this node')

    await trainer.stop()
    trainer = undefined
    // The node's memory and store are the caller's: still open after the node stopped.
    assert.equal(state.job(jobId, 'trainer')?.status, 'submitted')
    assert.ok(await store.blocks.has(CID.parse(version)))
  })
})
