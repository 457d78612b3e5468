import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { connect, deploy, devnetAccount, INIT_STEP, readDispute, readJob, registerAndStake, startDevnet, type Clients, type Deployment, type Devnet } from '@commons/chain'
import { decodeSafetensors, initialState, paramSpecs, readRecords, stateRootOf, type Recipe, type Tensor } from '@commons/engine'
import { parseFault, peerIdBytes, type CommonsNode } from '@commons/node'
import { fundedNodes } from '@commons/node/testing/fundedNodes'
import { until as waitUntil, type Check } from '@commons/node/testing/until'
import { toHex } from '@commons/protocol'
import { commitVersion, initDataset } from '@commons/store'
import { commons, REPO } from './testing.ts'

/**
 * Fine-tuning an open base model as a job of the network: a model is exported to GGUF,
 * imported (its weights stored by CID, a recipe naming them as its base) and posted as a
 * job. An honest trainer starts from the base weights; a trainer whose S_0 departs from
 * them by one element, and one that lies in a drawn op of a step, are caught and slashed
 * by a validator. Real nodes on anvil, the base fetched over bitswap.
 */

let root: string
let devnet: Devnet
let deployment: Deployment
let bank: Clients
let requester: CommonsNode
let validator: CommonsNode
let version: string
let recipe: Recipe
let base: Tensor[]
const { start, nodes, lines } = fundedNodes(() => ({ root, rpcUrl: devnet.rpcUrl, deployment, bank }))

const until = async (what: string, check: Check, timeoutMs = 180_000): Promise<void> => waitUntil(what, check, { timeoutMs, everyMs: 100, said: () => lines.slice(-40).join('\n') })

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-finetune-'))
  // The base model: a short run, exported to GGUF and imported into the requester's home.
  const tiny = JSON.parse(await readFile(join(REPO, 'recipes', 'tiny.json'), 'utf8')) as Recipe
  await writeFile(join(root, 'base-recipe.json'), JSON.stringify({ ...tiny, model: { ...tiny.model, layers: 1 }, steps: 2, checkpointInterval: 2 }))
  const corpus = join(REPO, 'packages/engine/fixtures/corpus.txt')
  const h = ['--home', join(root, 'requester')]
  for (const args of [
    ['train', join(root, 'base-recipe.json'), '--data', corpus, '--out', join(root, 'base-run')],
    ['model', 'export', join(root, 'base-run'), '--out', join(root, 'base.gguf')],
    ['model', 'import', join(root, 'base.gguf'), '--out', join(root, 'imported')]
  ]) {
    const run = await commons([...args, '--json', ...h])
    assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`)
  }
  const imported = JSON.parse(await readFile(join(root, 'imported', 'recipe.json'), 'utf8')) as Recipe
  recipe = { ...imported, batchSize: 2, steps: 4, checkpointInterval: 2 }
  const { tensors } = decodeSafetensors(await readFile(join(root, 'imported', 'model.safetensors')))
  base = paramSpecs(recipe.model).map(spec => tensors.get(spec.name) as Tensor)

  devnet = await startDevnet({ home: join(root, 'chain') })
  bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = { ...await deploy(bank, { disputeBond: parseEther('10'), moveTime: 600n }), rpcUrl: devnet.rpcUrl }
  requester = await start('requester', ['requester'])
  validator = await start('validator', ['validator'], { checkSteps: 'all', traceWaitMs: 3000 })
  await registerAndStake(validator.clients, deployment, { peerId: peerIdBytes(validator.peerId), roles: ['validator'], amount: parseEther('1000') })
  await validator.network.connect(requester.network.multiaddrs()[0])
  await initDataset(requester.store, 'corpus')
  version = (await commitVersion(requester.store, { name: 'corpus', path: corpus, message: 'corpus' })).cid.toString()
})

after(async () => {
  for (const node of nodes) await node.stop().catch(() => {})
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

/** A trainer (honest, or with `fault`) takes one fine-tuning job; returns the job and the trainer. */
async function fineTune (name: string, fault?: string): Promise<{ jobId: bigint, trainer: CommonsNode }> {
  const trainer = await start(name, ['trainer'], fault === undefined ? {} : { fault: parseFault(fault, 3) })
  await registerAndStake(trainer.clients, deployment, { peerId: peerIdBytes(trainer.peerId), roles: ['trainer'], amount: parseEther('300') })
  await trainer.network.connect(requester.network.multiaddrs()[0])
  await validator.network.connect(trainer.network.multiaddrs()[0])
  const jobId = await requester.postJob({ datasetCid: version, reward: parseEther('100'), jobStake: parseEther('200'), recipe })
  return { jobId, trainer }
}

async function disputeOf (jobId: bigint) {
  await until(`the validator to dispute job ${jobId}`, () => validator.state.disputes().some(d => d.jobId === String(jobId)))
  const id = BigInt(validator.state.disputes().find(d => d.jobId === String(jobId))?.id ?? -1)
  await until(`dispute ${id} to resolve`, async () => (await readDispute(bank, deployment, id)).resolved)
  return readDispute(bank, deployment, id)
}

describe('a fine-tuning job from an imported base model', () => {
  it('is trained from the base weights by an honest trainer, submitted and attested', { timeout: 300_000 }, async () => {
    const { jobId, trainer } = await fineTune('honest')
    await until(`job ${jobId} to be attested`, () => validator.state.job(jobId, 'validator')?.status === 'attested')
    assert.equal((await readJob(bank, deployment, jobId)).statusName, 'submitted')
    const records = await readRecords(join(root, 'honest', 'runs', `job-${jobId}`))
    assert.equal(records[0].state, toHex(stateRootOf(initialState(recipe, base))), 'S_0 is the base weights')
    assert.equal(validator.state.disputes().some(d => d.jobId === String(jobId)), false)
    await trainer.stop()
  })

  it('slashes a trainer whose S_0 departs from the base weights by one element, at INIT', { timeout: 300_000 }, async () => {
    const { jobId, trainer } = await fineTune('bad-start', 'init')
    const dispute = await disputeOf(jobId)
    assert.equal(dispute.step, INIT_STEP)
    assert.equal(dispute.winner, 'challenger')
    assert.equal(dispute.reasonName, 'mismatch')
    assert.equal((await readJob(bank, deployment, jobId)).statusName, 'slashed')
    await trainer.stop()
  })

  it('slashes a trainer that lies in a drawn op of a fine-tuning step', { timeout: 300_000 }, async () => {
    const { jobId, trainer } = await fineTune('bad-step', 'step')
    const dispute = await disputeOf(jobId)
    assert.notEqual(dispute.step, INIT_STEP)
    assert.equal(dispute.winner, 'challenger')
    assert.equal(dispute.reasonName, 'mismatch')
    assert.equal((await readJob(bank, deployment, jobId)).statusName, 'slashed')
    await trainer.stop()
  })
})
