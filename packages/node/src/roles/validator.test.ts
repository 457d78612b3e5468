import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEther } from 'viem'
import {
  claimJob, connect, deploy, devnetAccount, postJob, registerAndStake, startDevnet, submitResult, transferTokens, type Clients, type Deployment, type Devnet
} from '@commons/chain'
import { readRecipe, train, type Recipe } from '@commons/engine'
import { commitVersion, generateRows, initDataset, openStore, rowsToBytes, tokenizeVersion, type Store } from '@commons/store'
import { publishDir } from '../content.ts'
import { createNode, type CommonsNode } from '../createNode.ts'
import { startNetwork, type NetworkNode } from '../network.ts'
import { createNodeKey } from '../nodeKey.ts'
import { NodeState } from '../state.ts'
import { until } from '../testing/until.ts'
import { jobSpecFor } from './requester.ts'

/**
 * The validator role alone, made of components a test hands in: a real anvil, a store
 * and a SQLite state in a temp dir, a network with no peers. The test is the requester
 * and the trainer (it posts, claims, trains with the engine and submits); the run is in
 * the validator's own store, which replays every step and attests.
 */

let root: string
let devnet: Devnet
let bank: Clients
let deployment: Deployment
let store: Store
let network: NetworkNode
let state: NodeState
let validator: CommonsNode | undefined

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-validator-alone-'))
  devnet = await startDevnet({ home: join(root, 'chain') })
  bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = { ...await deploy(bank), rpcUrl: devnet.rpcUrl }
  store = await openStore(join(root, 'validator'))
  network = await startNetwork({ blockstore: store.blocks, privateKey: await createNodeKey() })
  state = new NodeState(join(root, 'validator', 'state.db'))
})

after(async () => {
  await validator?.stop()
  await network?.stop()
  state?.close()
  await store?.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

describe('a validator built from components', () => {
  it('replays every step of a submitted run and attests it', { timeout: 240_000 }, async () => {
    const clients = await connect(devnet.rpcUrl, devnetAccount(3))
    const trainer = await connect(devnet.rpcUrl, devnetAccount(4))
    for (const account of [clients, trainer]) await transferTokens(bank, deployment, account.account.address, parseEther('1000'))
    await registerAndStake(trainer, deployment, { peerId: '0x01', roles: ['trainer'], amount: parseEther('500') })
    const lines: string[] = []
    validator = await createNode({ clients, store, network, state }, {
      home: join(root, 'validator'), deployment, roles: ['validator'], apiPort: false, pollMs: 100, checkSteps: 'all', stake: parseEther('500'), log: line => lines.push(line)
    })

    const source = join(root, 'corpus')
    await mkdir(source, { recursive: true })
    await writeFile(join(source, 'rows.jsonl'), rowsToBytes(generateRows(20_000, 6)))
    await initDataset(store, 'corpus')
    const version = (await commitVersion(store, { name: 'corpus', path: source, message: 'rows' })).cid.toString()
    const tiny = await readRecipe(fileURLToPath(new URL('../../../../recipes/tiny.json', import.meta.url)))
    const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 4, checkpointInterval: 2 }
    const { jobId } = await postJob(bank, deployment, await jobSpecFor(store, { datasetCid: version, recipe, reward: parseEther('50'), jobStake: parseEther('100') }))
    await claimJob(trainer, deployment, jobId)
    const { tokens } = await tokenizeVersion(store, version, recipe.tokenizer)
    const out = join(root, 'run')
    const result = await train({ recipe, tokens, data: { source: 'test' }, out })
    const runCid = await publishDir(store, 'run', out, 'the trainer\'s run')
    await submitResult(trainer, deployment, { jobId, modelCid: runCid, transcriptRoot: result.transcriptRoot, steps: result.steps })

    await until(`the validator to attest job ${jobId}`, () => state.job(jobId, 'validator')?.status === 'attested', { timeoutMs: 180_000, said: () => lines.join('\n') })
    assert.equal(state.job(jobId, 'validator')?.detail.checked, recipe.steps)
    assert.ok(validator.timings.verification > 0, 'the steps were replayed by this node')
  })
})
