import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { claimJob, connect, devnetAccount, postJob, registerAndStake, submitResult, transferTokens } from '@commons/chain'
import { train, referenceContext } from '@commons/engine'
import { existsSync } from 'node:fs'
import { tokenizeVersion, tokenStreamPath } from '@commons/store'
import { publishDir } from '../content.ts'
import { createNode, type CommonsNode } from '../createNode.ts'
import { startAlone, type Alone } from '../testing/alone.ts'
import { until } from '../testing/until.ts'
import { jobSpecFor } from './requester.ts'

/**
 * The validator role alone, made of components a test hands in: a real anvil, a store
 * and a SQLite state in a temp dir, a network with no peers. The test is the requester
 * and the trainer (it posts, claims, trains with the engine and submits); the run is in
 * the validator's own store, which replays every step and attests.
 */

let alone: Alone
let validator: CommonsNode | undefined

before(async () => { alone = await startAlone('validator') })
after(async () => {
  await validator?.stop()
  await alone?.close()
})

describe('a validator built from components', () => {
  it('replays every step of a submitted run and attests it', { timeout: 240_000 }, async () => {
    const { bank, deployment, devnet, store, network, state, recipe, version } = alone
    const clients = await connect(devnet.rpcUrl, devnetAccount(3))
    const trainer = await connect(devnet.rpcUrl, devnetAccount(4))
    for (const account of [clients, trainer]) await transferTokens(bank, deployment, account.account.address, parseEther('1000'))
    await registerAndStake(trainer, deployment, { peerId: '0x01', roles: ['trainer'], amount: parseEther('500') })
    const lines: string[] = []
    validator = await createNode({ clients, store, network, state }, {
      home: alone.home, deployment, roles: ['validator'], apiPort: false, pollMs: 100, checkSteps: 'all', stake: parseEther('500'), log: line => lines.push(line)
    })

    const { jobId } = await postJob(bank, deployment, await jobSpecFor(referenceContext(), store, { datasetCid: version, recipe, reward: parseEther('50'), jobStake: parseEther('100') }))
    await claimJob(trainer, deployment, jobId)
    const { tokens } = await tokenizeVersion(store, version, recipe.tokenizer)
    const out = join(alone.root, 'run')
    const result = await train(referenceContext(), { recipe, tokens, data: { source: 'test' }, out })
    const runCid = await publishDir(store, 'run', out, 'the trainer\'s run')
    await submitResult(trainer, deployment, { jobId, modelCid: runCid, transcriptRoot: result.transcriptRoot, steps: result.steps })

    await until(`the validator to attest job ${jobId}`, () => state.job(jobId, 'validator')?.status === 'attested', { timeoutMs: 180_000, said: () => lines.join('\n') })
    assert.equal(state.job(jobId, 'validator')?.detail.checked, recipe.steps)
    assert.ok(validator.timings.verification > 0, 'the steps were replayed by this node')
    // The run was trained on the tokens in one array; the node replayed it from the stored
    // stream (same state roots at every step, or it would not have attested).
    assert.ok(existsSync(tokenStreamPath(alone.home, version, recipe.tokenizer)), 'the node read the version\'s stored stream')
  })
})
