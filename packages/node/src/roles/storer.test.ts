import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { parseEther } from 'viem'
import * as raw from 'multiformats/codecs/raw'
import { connect, createStorageDeal, devnetAccount, readStake, readStorageDeal, tokenBalance, transferTokens } from '@commons/chain'
import { openStore, parseCid, type Store } from '@commons/store'
import { createNode, type CommonsNode } from '../createNode.ts'
import { startNetwork, type NetworkNode } from '../network.ts'
import { NodeState } from '../state.ts'
import { startAlone, type Alone } from '../testing/alone.ts'
import { until } from '../testing/until.ts'

/**
 * Storage deals with real nodes: the test's own node holds a dataset version and funds a
 * deal for two replicas; two storer nodes fetch it over bitswap, join and prove epoch
 * after epoch; one loses its blocks and goes down, is reported and slashed; a third
 * storer fetches the version, takes the open slot and proves. Blocks are mined by the
 * test, one every 50 ms, as a chain would.
 */

interface Storer { node: CommonsNode, store: Store, network: NetworkNode, state: NodeState, lines: string[] }

let alone: Alone
let miner: NodeJS.Timeout | undefined
const storers: Storer[] = []

before(async () => { alone = await startAlone('storage') })
after(async () => {
  if (miner !== undefined) clearInterval(miner)
  for (const s of storers) {
    await s.node.stop().catch(() => {})
    await s.network.stop().catch(() => {})
    s.state.close()
    await s.store.close()
  }
  await alone?.close()
})

async function startStorer (index: number): Promise<Storer> {
  const home = join(alone.root, `storer-${index}`)
  const clients = await connect(alone.devnet.rpcUrl, devnetAccount(index))
  await transferTokens(alone.bank, alone.deployment, clients.account.address, parseEther('1000'))
  const store = await openStore(home)
  const network = await startNetwork({ blockstore: store.blocks, bootstrap: alone.network.multiaddrs() })
  const state = new NodeState(join(home, 'state.db'))
  const lines: string[] = []
  const node = await createNode({ clients, store, network, state }, {
    home, deployment: alone.deployment, roles: ['storer'], apiPort: false, pollMs: 100, stake: parseEther('500'), log: line => lines.push(`[storer-${index}] ${line}`)
  })
  const storer = { node, store, network, state, lines }
  storers.push(storer)
  return storer
}

const said = (): string => storers.flatMap(s => s.lines.slice(-15)).join('\n')

describe('the storer role', () => {
  it('two storers prove and are paid; one loses its blocks and is slashed; a third takes the slot', { timeout: 240_000 }, async (t) => {
    const { bank, deployment } = alone
    const version = parseCid(alone.version)
    const terms = { replicas: 2, epochs: 10, epochBlocks: 40, pricePerEpoch: parseEther('10'), collateral: parseEther('100'), slashBps: 5_000 }
    const [s1, s2] = [await startStorer(3), await startStorer(4)]
    const { dealId } = await createStorageDeal(bank, deployment, alone.store.blocks, version, terms)
    miner = setInterval(() => { bank.public.request({ method: 'anvil_mine' as never, params: ['0x1'] as never }).catch(() => {}) }, 50)

    await until('both storers to prove two epochs', () => s1.node.storage.proofs >= 2 && s2.node.storage.proofs >= 2, { timeoutMs: 120_000, said })
    assert.ok(await tokenBalance(bank, deployment, s1.node.address) >= parseEther('520'), 'paid per proven epoch (500 staked out of 1000, +2 × 10)')

    // s2 loses the version's leaves and goes down.
    const staked = (await readStake(bank, deployment, s2.node.address)).staked
    await s2.node.stop()
    for await (const { cid } of s2.store.blocks.getAll()) if (cid.code === raw.code) await s2.store.blocks.delete(cid)

    const s3 = await startStorer(5)
    assert.equal(await s3.store.blocks.has(version), false, 'the third storer starts with an empty store')
    await until('the third storer to take the open slot and prove', () => s3.node.storage.proofs >= 1, { timeoutMs: 120_000, said })
    // It proved from blocks it fetched from its peers over bitswap before joining.
    assert.ok(s3.lines.some(line => /storage deal \d+: fetched \S+ \([1-9]\d* blocks/.test(line)), said())
    assert.equal(await s3.store.blocks.has(version), true, 'the version is in its own store now')
    assert.equal(staked - (await readStake(bank, deployment, s2.node.address)).staked, terms.collateral / 2n, 'half the collateral slashed')
    const deal = await readStorageDeal(bank, deployment, dealId)
    assert.deepEqual(deal.slots.map(s => s.provider).sort(), [s1.node.address, s3.node.address].sort())
    assert.ok(s1.node.storage.reported + s3.node.storage.reported >= 1, 'a storer reported the miss')

    // Served to the end: both storers get their collateral back.
    await until('the deal to end and both collaterals to be released', async () =>
      (await readStake(bank, deployment, s1.node.address)).locked === 0n && (await readStake(bank, deployment, s3.node.address)).locked === 0n, { timeoutMs: 120_000, said })
    // release() requires every owed epoch proven: s1 never missed one, and lost nothing.
    assert.equal((await readStake(bank, deployment, s1.node.address)).staked, parseEther('500'))
    const gas = [...s1.node.storage.gas, ...s3.node.storage.gas]
    t.diagnostic(`storer proofs: ${gas.length}, gas per proof tx ${gas.join(', ')}`)
  })
})
