import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { actions, connect, createDao, DEFAULT_DAO_PARAMS, devnetAccount, propose, proposalState, readDao, readManifest, startDevnet, type Devnet } from '@commons/chain'
import { commons } from './testing.ts'

/**
 * `dao vote` right after `dao propose`, as a script's next line runs it: the Governor
 * opens the vote the second after the proposal's snapshot, and a vote sent before is
 * refused as pending. The command waits for the vote to open. A DAO with a voting delay
 * of 3 s makes the wait certain (on the devnet's DAO it is under a second, often none).
 */

const HEAD = 'bafyreigezfizmnk4llquwjxtfcozdirvwcx52t7yojbw3aomniojb2d37i'

let root: string
let devnet: Devnet
let h: string[]

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-dao-vote-'))
  devnet = await startDevnet({ home: join(root, 'chain-home') })
  h = ['--home', join(root, 'home'), '--rpc', devnet.rpcUrl, '--json']
  const deployed = await commons(['chain', 'deploy', ...h])
  assert.equal(deployed.code, 0, deployed.stderr)
})
after(async () => {
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

describe('dao create and vote', () => {
  it('waits for a just-made proposal\'s vote to open, then votes', { timeout: 120_000 }, async () => {
    const clients = await connect(devnet.rpcUrl, devnetAccount(0))
    const deployment = await readManifest(join(root, 'home', 'chain', 'deployment.json'))
    const { dao } = await createDao(clients, deployment, { name: 'delayed', head: HEAD, members: [{ account: clients.account.address, shares: 100n }], params: { ...DEFAULT_DAO_PARAMS, votingDelay: 3 } })
    const { proposalId } = await propose(clients, dao, { actions: [actions.setHead(dao, HEAD)], description: 'the same head' })
    assert.equal(await proposalState(clients, dao, proposalId), 'pending', 'the vote is not open yet')
    const voted = await commons(['dao', 'vote', 'delayed', String(proposalId), 'for', ...h])
    assert.equal(voted.code, 0, voted.stderr)
    assert.equal(await proposalState(clients, dao, proposalId), 'active')
    assert.equal(JSON.parse(voted.stdout).support, 'for')
  })

  it('creates a DAO with the voting period and timelock asked for, and refuses a vote of no time', { timeout: 60_000 }, async () => {
    const created = await commons(['dao', 'create', 'quick', '--head', HEAD, '--voting-period', '7', '--timelock', '0', ...h])
    assert.equal(created.code, 0, created.stderr)
    const clients = await connect(devnet.rpcUrl, devnetAccount(0))
    const { params } = await readDao(clients, JSON.parse(created.stdout).dao)
    assert.deepEqual(params, { ...DEFAULT_DAO_PARAMS, votingPeriod: 7, timelockDelay: 0 })
    const refused = await commons(['dao', 'create', 'never', '--head', HEAD, '--voting-period', '0', ...h])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /--voting-period must be a whole number of seconds from 1/)
  })
})
