import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { claimJob, connect, devnetAccount, MODEL_FILE, postJob, readJob, readStake, registerAndStake, submitResult, transferTokens, type Clients } from '@commons/chain'
import { paramSpecs, train, referenceContext } from '@commons/engine'
import { tokenizeVersion } from '@commons/store'
import { publishDir } from './content.ts'
import { createNode, type CommonsNode } from './createNode.ts'
import { startAlone, type Alone } from './testing/alone.ts'
import { until } from './testing/until.ts'
import { jobSpecFor } from './roles/requester.ts'

/**
 * A validator checks the model file of every run whose transcript holds: the test is the
 * requester and a trainer that trains honestly, then publishes one run as trained and one
 * whose model.safetensors differs in one weight, then one whose header swaps two names
 * over S_T's weights. On a real anvil, with the contracts as deployed, the validator attests
 * the first and gets the other two slashed through ModelFileDisputes, one call each.
 */

let alone: Alone
let validator: CommonsNode | undefined

before(async () => { alone = await startAlone('modelfile') })
after(async () => {
  await validator?.stop()
  await alone?.close()
})

/** Flips the low bit of the byte `byteInData` past the header (the F32 words in slot order). */
async function corruptWeight (path: string, byteInData: number): Promise<void> {
  const bytes = await readFile(path)
  const at = 8 + Number(bytes.readBigUInt64LE(0)) + byteInData
  bytes[at] ^= 0x01
  await writeFile(path, bytes)
}

describe('a model file that is not S_T', () => {
  it('is slashed by a validator; an honest one is attested', { timeout: 300_000 }, async t => {
    const { bank, deployment, devnet, store, network, state, recipe, version } = alone
    const clients = await connect(devnet.rpcUrl, devnetAccount(3))
    const trainer = await connect(devnet.rpcUrl, devnetAccount(4))
    for (const account of [clients, trainer]) await transferTokens(bank, deployment, account.account.address, parseEther('1000'))
    await registerAndStake(trainer, deployment, { peerId: '0x01', roles: ['trainer'], amount: parseEther('500') })
    const lines: string[] = []
    validator = await createNode({ clients, store, network, state }, {
      home: alone.home, deployment, roles: ['validator'], apiPort: false, pollMs: 100, checkSteps: 1, stake: parseEther('500'), log: line => lines.push(line)
    })
    const { tokens } = await tokenizeVersion(store, version, recipe.tokenizer)
    const spec = await jobSpecFor(referenceContext(), store, { datasetCid: version, recipe, reward: parseEther('50'), jobStake: parseEther('100') })

    const run = async (account: Clients, name: string, lie: false | 'weight' | 'header'): Promise<bigint> => {
      const { jobId } = await postJob(bank, deployment, spec)
      await claimJob(account, deployment, jobId)
      const out = join(alone.root, name)
      // The header lie: two parameters' names swapped in the header, every weight at its offset.
      const result = await train(referenceContext(), { recipe, tokens, data: { source: 'test' }, out, ...(lie === 'header' ? { fault: { kind: 'header' as const, slot: 0 } } : {}) })
      // The 5th weight of the second parameter tensor, after the first tensor's words.
      const first = paramSpecs(recipe.model)[0].shape.reduce((a, b) => a * b, 1)
      if (lie === 'weight') await corruptWeight(join(out, MODEL_FILE), 4 * (first + 4))
      const runCid = await publishDir(store, name, out, `${name} run`)
      await submitResult(account, deployment, { jobId, modelCid: runCid, transcriptRoot: result.transcriptRoot, steps: result.steps })
      return jobId
    }

    const honest = await run(trainer, 'honest', false)
    await until(`the validator to attest job ${honest}`, () => state.job(honest, 'validator')?.status === 'attested', { timeoutMs: 180_000, said: () => lines.join('\n') })

    const stakeBefore = (await readStake(trainer, deployment, trainer.account.address)).staked
    const lying = await run(trainer, 'lying', 'weight')
    await until(`the validator to convict job ${lying}`, () => state.job(lying, 'validator')?.status === 'disputed', { timeoutMs: 180_000, said: () => lines.join('\n') })
    const job = await readJob(clients, deployment, lying)
    assert.equal(job.statusName, 'slashed', 'the trainer lost the dispute over its model file')
    const detail = state.job(lying, 'validator')?.detail.modelFile as { slot: number, element: number, gas: string }
    t.diagnostic(`conviction: ${detail.gas} gas, model file of ${(await stat(join(alone.root, 'lying', MODEL_FILE))).size} bytes`)
    assert.equal(detail.slot, 1, 'the parameter whose weight was changed')
    assert.equal(detail.element, 4, 'the weight changed')
    assert.equal((await readStake(trainer, deployment, trainer.account.address)).staked, stakeBefore - parseEther('100'), 'the job stake was slashed')
    assert.equal((await readJob(clients, deployment, honest)).statusName, 'submitted', 'the honest run is untouched')

    const swapped = await run(trainer, 'swapped', 'header')
    await until(`the validator to convict job ${swapped}`, () => state.job(swapped, 'validator')?.status === 'disputed', { timeoutMs: 180_000, said: () => lines.join('\n') })
    assert.equal((await readJob(clients, deployment, swapped)).statusName, 'slashed', 'the trainer lost the dispute over its header')
    const header = state.job(swapped, 'validator')?.detail.modelFile as { header: boolean, gas: string }
    assert.equal(header.header, true, 'convicted by its header, its weights being S_T\'s')
    t.diagnostic(`header conviction: ${header.gas} gas`)
  })
})
