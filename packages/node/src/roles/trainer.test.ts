import { referenceContext } from '@commons/engine'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import { parseEther } from 'viem'
import { connect, devnetAccount, postJob, readJob, readStake, transferTokens } from '@commons/chain'
import { createNode, type CommonsNode } from '../createNode.ts'
import { startAlone, type Alone } from '../testing/alone.ts'
import { until } from '../testing/until.ts'
import { jobSpecFor } from './requester.ts'

/**
 * The trainer role alone, made of components a test hands in: a real anvil, a store
 * and a SQLite state in a temp dir, a network with no peers. No requester node, no
 * validator: the job is posted straight to the market, with its recipe and dataset put
 * in the trainer's own store, and the trainer claims, trains and submits it.
 */

let alone: Alone
let trainer: CommonsNode | undefined

before(async () => { alone = await startAlone('trainer') })
after(async () => {
  await trainer?.stop()
  await alone?.close()
})

describe('a trainer built from components', () => {
  it('registers and stakes, claims a posted job, trains and submits it, and leaves its components open', { timeout: 240_000 }, async () => {
    const { bank, deployment, devnet, store, network, state, recipe, version } = alone
    const clients = await connect(devnet.rpcUrl, devnetAccount(3))
    await transferTokens(bank, deployment, clients.account.address, parseEther('500'))
    const lines: string[] = []
    trainer = await createNode({ clients, store, network, state }, {
      home: alone.home, deployment, roles: ['trainer'], apiPort: false, pollMs: 100, stake: parseEther('200'), log: line => lines.push(line)
    })
    assert.equal((await readStake(bank, deployment, clients.account.address)).staked, parseEther('200'), 'createNode staked as its init said')

    const spec = await jobSpecFor(referenceContext(), store, { datasetCid: version, recipe, reward: parseEther('50'), jobStake: parseEther('100') })
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
