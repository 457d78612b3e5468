import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { referenceContext, tokensRootOf, train, type Recipe } from '@commons/engine'
import { putRaw, tokenizeVersion, tokenStreamPath } from '@commons/store'
import { BpeTokenizer, tokenizerFile, trainBpe } from '@commons/tokenizer'
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
    // The node trained from the stored token stream; the same recipe on the tokens in one
    // array gives the same transcript, bit for bit (every state root and loss).
    assert.ok(existsSync(tokenStreamPath(alone.home, version, recipe.tokenizer)), 'the node read the version\'s stored stream')
    const { tokens } = await tokenizeVersion(store, version, recipe.tokenizer)
    const inMemory = await train(referenceContext(), { recipe, tokens, data: { source: 'test' }, out: join(alone.root, 'in-memory') })
    assert.equal((await readJob(bank, deployment, jobId)).transcriptRoot, inMemory.transcriptRoot)

    await trainer.stop()
    trainer = undefined
    // The node's memory and store are the caller's: still open after the node stopped.
    assert.equal(state.job(jobId, 'trainer')?.status, 'submitted')
    assert.ok(await store.blocks.has(CID.parse(version)))
  })

  it('trains a recipe whose tokenizer is a BPE named by CID, and keeps its tokenizer.json in the published run', { timeout: 240_000 }, async () => {
    const { bank, deployment, devnet, store, network, state, recipe, version } = alone
    // The BPE is trained on the dataset itself and stored by CID, as commons tokenizer train does.
    const { tokens: bytes } = await tokenizeVersion(store, version, 'byte')
    const bpe = trainBpe(Uint8Array.from(bytes), 300)
    const json = tokenizerFile(bpe)
    const tokenizer = (await putRaw(store.blocks, json)).toString()
    const bpeRecipe = { ...recipe, tokenizer, model: { ...recipe.model, vocab: new BpeTokenizer(bpe).vocab } } as Recipe
    const clients = await connect(devnet.rpcUrl, devnetAccount(4))
    await transferTokens(bank, deployment, clients.account.address, parseEther('500'))
    const lines: string[] = []
    trainer = await createNode({ clients, store, network, state }, {
      home: alone.home, deployment, roles: ['trainer'], apiPort: false, pollMs: 100, stake: parseEther('200'), log: line => lines.push(line)
    })
    const spec = await jobSpecFor(referenceContext(), store, { datasetCid: version, recipe: bpeRecipe, reward: parseEther('50'), jobStake: parseEther('100') })
    assert.equal(spec.tokensRoot, tokensRootOf(new BpeTokenizer(bpe).encode(Uint8Array.from(bytes))), 'the job binds the BPE tokens')
    const { jobId } = await postJob(bank, deployment, spec)
    await until(`the trainer to submit job ${jobId}`, async () => (await readJob(bank, deployment, jobId)).statusName === 'submitted', { timeoutMs: 180_000, said: () => lines.join('\n') })
    await trainer.idle()
    const run = state.run(jobId)
    assert.equal(run?.status, 'submitted')
    const kept = await readFile(join(run?.dir ?? '', 'tokenizer.json'))
    assert.ok(kept.equals(json), 'the run keeps the tokenizer it was trained with')
    await trainer.stop()
    trainer = undefined
  })
})
