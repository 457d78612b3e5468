import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Address } from 'viem'
import {
  actions, advanceTime, connect, createDao, datasetDaoAbi, deploy, devnetAccount, escrowedSharesOf, escrowToFork, execute,
  proposalState, propose, queue, readDao, startDevnet, vote, withdrawFromForkEscrow, type Clients, type Deployment, type Devnet
} from './index.ts'

const HEAD_1 = 'bafyreigezfizmnk4llquwjxtfcozdirvwcx52t7yojbw3aomniojb2d37i'
const HEAD_2 = 'bafyreifzd6yrhbx4ejmyxsgylv6hsklrf4jv7gn2hcj3us7v7bnbwgjb7y'

let home: string
let devnet: Devnet
let deployment: Deployment
const as: Record<string, Clients> = {}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-dao-'))
  devnet = await startDevnet({ home })
  for (const [i, name] of ['deployer', 'alice', 'bob'].entries()) as[name] = await connect(devnet.rpcUrl, devnetAccount(i))
  deployment = await deploy(as.deployer)
})

after(async () => {
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

const address = (name: string): Address => as[name].account.address

async function twoMemberDao (name: string): Promise<Address> {
  const { dao } = await createDao(as.alice, deployment, {
    name, head: HEAD_1, members: [{ account: address('alice'), shares: 90n }, { account: address('bob'), shares: 10n }]
  })
  return dao
}

describe('dataset DAO on a real anvil', () => {
  it('reads as an OpenZeppelin Governor with a timestamp clock and the DAO as its votes token', async () => {
    const dao = await twoMemberDao('governor')
    const read = async (functionName: 'CLOCK_MODE' | 'COUNTING_MODE' | 'token' | 'name'): Promise<unknown> =>
      as.alice.public.readContract({ address: dao, abi: datasetDaoAbi, functionName })
    assert.equal(await read('CLOCK_MODE'), 'mode=timestamp')
    assert.equal(await read('COUNTING_MODE'), 'support=bravo&quorum=for,abstain')
    assert.equal(await read('token'), dao)
    assert.equal(await read('name'), 'governor')
  })

  it('gives escrowed shares back when a fork stays below its threshold', async () => {
    const dao = await twoMemberDao('way back')
    await escrowToFork(as.bob, dao, 10n)
    const escrowed = await readDao(as.bob, dao)
    assert.deepEqual([escrowed.escrowedToFork, escrowed.totalShares], [10n, 90n], 'bob alone is below the 20% threshold')
    assert.equal(await escrowedSharesOf(as.bob, dao, address('bob')), 10n)
    await withdrawFromForkEscrow(as.bob, dao, 10n)
    const back = await readDao(as.bob, dao)
    assert.deepEqual([back.escrowedToFork, back.totalShares], [0n, 100n])
    assert.deepEqual(back.members.find(m => m.account === address('bob'))?.shares, 10n)
  })

  it('lets a passed proposal expire when nobody queues it within the execution period', async () => {
    const dao = await twoMemberDao('expiry')
    const { proposalId } = await propose(as.alice, dao, { actions: [actions.setHead(dao, HEAD_2)], description: 'v2' })
    await advanceTime(devnet.rpcUrl, 2)
    await vote(as.alice, dao, proposalId, 'for')
    await advanceTime(devnet.rpcUrl, 61)
    assert.equal(await proposalState(as.alice, dao, proposalId), 'succeeded')
    await advanceTime(devnet.rpcUrl, 86_401)
    assert.equal(await proposalState(as.alice, dao, proposalId), 'expired')
    await assert.rejects(queue(as.alice, dao, proposalId), (error: Error & { details?: { error?: string } }) =>
      error.details?.error === 'GovernorUnexpectedProposalState')
  })

  it('queues and executes by the calls and description of the proposal event', async () => {
    const dao = await twoMemberDao('execute')
    const { proposalId } = await propose(as.alice, dao, { actions: [actions.setHead(dao, HEAD_2)], description: 'v2, again' })
    await advanceTime(devnet.rpcUrl, 2)
    await vote(as.alice, dao, proposalId, 'for')
    await advanceTime(devnet.rpcUrl, 61)
    await queue(as.alice, dao, proposalId)
    await advanceTime(devnet.rpcUrl, 11)
    await execute(as.bob, dao, proposalId)
    assert.equal(await proposalState(as.alice, dao, proposalId), 'executed')
    assert.equal((await readDao(as.alice, dao)).head, HEAD_2)
  })
})
