import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createDao, deploy, devnetAccount, startDevnet, type Clients, type Deployment, type Devnet } from '@commons/chain'
import { ExplorerIndex } from './explorerIndex.ts'
import { bindIndex, indexChain } from './indexChain.ts'

/** The indexer on a real anvil: complete from the first contract, windowed, idempotent, live, tied to one deployment. */

const HEAD = 'bafyreigezfizmnk4llquwjxtfcozdirvwcx52t7yojbw3aomniojb2d37i'

let home: string
let devnet: Devnet
let clients: Clients
let deployment: Deployment

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-explorer-index-'))
  devnet = await startDevnet({ home })
  clients = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = await deploy(clients)
})

after(async () => {
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

const rows = (index: ExplorerIndex): string[] => index.events().map(e => `${e.block}:${e.logIndex}:${e.contract}:${e.name}`)

describe('indexChain', () => {
  it('reads from the first contract\'s block (the feed\'s first round is older than the manifest\'s block) in bounded windows', async () => {
    const index = new ExplorerIndex(':memory:')
    bindIndex(index, deployment, 31337)
    await indexChain(clients, deployment, index, { range: 3n })
    const rounds = index.events({ contract: 'priceFeed', names: ['AnswerUpdated'] })
    assert.equal(rounds.length, 1)
    assert.ok(rounds[0].block < Number(deployment.block))
    const whole = new ExplorerIndex(':memory:')
    bindIndex(whole, deployment, 31337)
    await indexChain(clients, deployment, whole)
    assert.deepEqual(rows(index), rows(whole), 'windows of 3 blocks index what one window does')
    assert.ok(rounds[0].gas !== '0' && rounds[0].time > 0, 'each event carries its transaction\'s gas and its block\'s time')
  })

  it('indexes a new DAO\'s own events in the window that made it, and nothing twice', async () => {
    const index = new ExplorerIndex(':memory:')
    bindIndex(index, deployment, 31337)
    await indexChain(clients, deployment, index)
    const before = rows(index).length
    const { dao } = await createDao(clients, deployment, { name: 'indexed', head: HEAD, members: [{ account: clients.account.address, shares: 10n }] })
    await indexChain(clients, deployment, index, { range: 1000n })
    assert.deepEqual(index.daoAddresses(), [dao.toLowerCase()])
    assert.equal(index.events({ contract: 'dao', names: ['SharesChanged'], address: dao }).length, 1)
    const after = rows(index).length
    assert.ok(after > before)
    await indexChain(clients, deployment, index)
    assert.equal(rows(index).length, after, 'a second pass to the same head adds nothing')
  })

  it('forgets an index built for another deployment', async () => {
    const index = new ExplorerIndex(':memory:')
    bindIndex(index, deployment, 31337)
    await indexChain(clients, deployment, index)
    assert.ok(rows(index).length > 0)
    bindIndex(index, { ...deployment, contracts: { ...deployment.contracts, market: clients.account.address } }, 31337)
    assert.deepEqual(rows(index), [])
    assert.equal(index.meta('indexedTo'), undefined)
  })
})
