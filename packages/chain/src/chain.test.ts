import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak256, parseEther, toHex, type Address } from 'viem'
import {
  actions, advanceTime, attestJob, claimJob, connect, createDao, deploy, devnetAccount, escrowToFork, execute, executeFork,
  finalizeJob, listDaos, postJob, propose, queue, readDao, readJob, readManifest, readStake, registerAndStake, startDevnet,
  submitResult, tokenBalance, transferTokens, vote, writeManifest, type Clients, type Deployment, type Devnet
} from './index.ts'

const HEAD_1 = 'bafyreigezfizmnk4llquwjxtfcozdirvwcx52t7yojbw3aomniojb2d37i'
const HEAD_2 = 'bafyreifzd6yrhbx4ejmyxsgylv6hsklrf4jv7gn2hcj3us7v7bnbwgjb7y'
const MODEL = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

let home: string
let devnet: Devnet
let deployment: Deployment
const as: Record<string, Clients> = {}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-chain-'))
  devnet = await startDevnet({ home })
  for (const [i, name] of ['deployer', 'alice', 'bob', 'trainer', 'validator'].entries()) as[name] = await connect(devnet.rpcUrl, devnetAccount(i))
  deployment = await deploy(as.deployer)
  for (const name of ['alice', 'bob', 'trainer', 'validator']) await transferTokens(as.deployer, deployment, as[name].account.address, parseEther('10000'))
})

after(async () => {
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

const address = (name: string): Address => as[name].account.address

describe('contracts on a real anvil', () => {
  it('deploys the set and writes a manifest that reads back', async () => {
    const path = join(home, 'chain', 'deployment.json')
    await writeManifest(path, deployment)
    const back = await readManifest(path)
    assert.deepEqual(back.contracts, deployment.contracts)
    assert.equal(back.chainId, 31337)
    for (const contract of Object.values(deployment.contracts)) {
      assert.notEqual(await as.deployer.public.getCode({ address: contract }), undefined)
    }
  })

  it('stakes with roles and a peer id', async () => {
    await registerAndStake(as.trainer, deployment, { peerId: toHex('12D3KooWtrainer'), roles: ['trainer'], amount: parseEther('1000') })
    await registerAndStake(as.validator, deployment, { peerId: toHex('12D3KooWvalidator'), roles: ['validator'], amount: parseEther('100') })
    const stake = await readStake(as.trainer, deployment, address('trainer'))
    assert.equal(stake.staked, parseEther('1000'))
    assert.equal(stake.roles, 1)
  })

  it('creates a DAO, passes a proposal that sets the head, and forks it', async () => {
    const { dao } = await createDao(as.alice, deployment, {
      name: 'corpus',
      head: HEAD_1,
      members: [{ account: address('alice'), shares: 70n }, { account: address('bob'), shares: 30n }]
    })
    await transferTokens(as.alice, deployment, dao, parseEther('1000'))
    const { proposalId } = await propose(as.alice, dao, { actions: [actions.setHead(dao, HEAD_2)], description: 'make v2 canonical' })
    await advanceTime(devnet.rpcUrl, 2)
    await vote(as.alice, dao, proposalId, 'for')
    await vote(as.bob, dao, proposalId, 'against')
    await advanceTime(devnet.rpcUrl, 61)
    await queue(as.alice, dao, proposalId)
    await advanceTime(devnet.rpcUrl, 10)
    await execute(as.bob, dao, proposalId)

    const shown = await readDao(as.alice, dao)
    assert.equal(shown.head, HEAD_2)
    assert.deepEqual(shown.headHistory.map(h => [h.from, h.to]), [[HEAD_1, HEAD_2]])
    assert.equal(shown.proposals[0].state, 'executed')
    assert.equal(shown.proposals[0].forVotes, 70n)

    await escrowToFork(as.bob, dao, 30n)
    const { fork, treasury } = await executeFork(as.alice, dao)
    assert.equal(treasury, parseEther('300'))
    const forked = await readDao(as.bob, fork)
    assert.equal(forked.head, HEAD_2)
    assert.deepEqual(forked.lineage, { parent: dao, forkPoint: HEAD_2 })
    assert.deepEqual(forked.members, [{ account: address('bob'), shares: 30n }])
    assert.equal(forked.treasury, parseEther('300'))
    assert.equal((await readDao(as.alice, dao)).treasury, parseEther('700'))
    assert.deepEqual((await listDaos(as.alice, deployment)).map(d => d.dao), [dao, fork])
  })

  it('posts, claims, submits, attests and finalizes a job, paying the trainer', async () => {
    const reward = parseEther('100')
    const { jobId } = await postJob(as.alice, deployment, {
      datasetCid: HEAD_2,
      tokensRoot: keccak256(toHex('tokens')),
      recipeCid: MODEL,
      programHash: keccak256(toHex('program')),
      modelHeader: keccak256(toHex('model header')),
      seed: 7n,
      steps: 50,
      reward,
      jobStake: parseEther('200'),
      trainingTime: 3600n,
      challengeWindow: 600n
    })
    await claimJob(as.trainer, deployment, jobId)
    assert.equal((await readStake(as.trainer, deployment, address('trainer'))).locked, parseEther('200'))
    await submitResult(as.trainer, deployment, { jobId, modelCid: MODEL, transcriptRoot: keccak256(toHex('transcript')), steps: 50 })
    await attestJob(as.validator, deployment, jobId)
    await assert.rejects(finalizeJob(as.alice, deployment, jobId), (error: Error) => error.name === 'ContractRevertError' && /WindowOpen/.test(error.message))
    await advanceTime(devnet.rpcUrl, 601)
    const before = await tokenBalance(as.trainer, deployment, address('trainer'))
    await finalizeJob(as.alice, deployment, jobId)
    const job = await readJob(as.alice, deployment, jobId)
    assert.equal(job.statusName, 'finalized')
    assert.equal(job.trainer, address('trainer'))
    assert.equal(await tokenBalance(as.trainer, deployment, address('trainer')) - before, reward * 9500n / 10000n)
    assert.equal(await tokenBalance(as.validator, deployment, address('validator')), parseEther('10000') - parseEther('100') + reward * 500n / 10000n)
    assert.equal((await readStake(as.trainer, deployment, address('trainer'))).locked, 0n)
  })

  it('names the contract error when a call is refused', async () => {
    await assert.rejects(claimJob(as.bob, deployment, 99n), (error: Error & { details: { error: string } }) =>
      error.name === 'ContractRevertError' && error.details.error === 'UnknownJob')
  })
})

describe('devnet', () => {
  it('keeps its state under the home across a clean stop and restart', async () => {
    const own = await mkdtemp(join(tmpdir(), 'commons-devnet-'))
    try {
      const first = await startDevnet({ home: own })
      const clients = await connect(first.rpcUrl, devnetAccount(0))
      const deployed = await deploy(clients)
      await first.stop()
      const second = await startDevnet({ home: own })
      try {
        const again = await connect(second.rpcUrl, devnetAccount(0))
        assert.notEqual(second.rpcUrl, first.rpcUrl, 'a fresh free port')
        const code = await again.public.getCode({ address: deployed.contracts.market })
        assert.ok(code !== undefined && code.length > 2, 'the market is still deployed')
        assert.ok(await tokenBalance(again, deployed, again.account.address) > 0n)
      } finally {
        await second.stop()
      }
    } finally {
      await rm(own, { recursive: true, force: true })
    }
  })

  it('reports an unreachable chain by name', async () => {
    await assert.rejects(connect('http://127.0.0.1:9', devnetAccount(0)), { name: 'ChainUnreachableError' })
  })
})
