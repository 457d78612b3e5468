import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther, toHex } from 'viem'
import { MemoryBlockstore } from 'blockstore-core/memory'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { commitVersion, initDataset, openStore, walkDag, type Store } from '@commons/store'
import {
  advanceTime, connect, createDao, createStorageDeal, deploy, devnetAccount, execute, fundStorageActions, joinStorageDeal, listStorageDeals,
  propose, proveStorage, queue, readStake, readStorageDeal, refundStorageDeal, registerAndStake, releaseStorageSlot, reportMissedStorage,
  startDevnet, storageWindow, tokenBalance, transferTokens, vote,
  type Clients, type Deployment, type Devnet, type StorageTerms
} from './index.ts'

let home: string
let devnet: Devnet
let deployment: Deployment
let store: Store
let version: CID
let tree: CID
const as: Record<string, Clients> = {}

const TERMS: StorageTerms = { replicas: 2, epochs: 6, epochBlocks: 40, pricePerEpoch: parseEther('10'), collateral: parseEther('100'), slashBps: 5_000 }

/** Rows of text large enough for a two-level file (FastCDC leaves under dag-pb file nodes). */
function rows (count: number): string {
  const lines = []
  for (let i = 0; i < count; i++) lines.push(JSON.stringify({ id: i, text: `row ${i} ${(i * 2654435761 >>> 0).toString(36).repeat(1 + i % 9)}` }))
  return lines.join('\n') + '\n'
}

/** A provider's own blockstore, filled with every block of the version (as bitswap would). */
async function copyOfVersion (): Promise<MemoryBlockstore> {
  const copy = new MemoryBlockstore()
  for await (const { cid, bytes } of store.blocks.getAll()) {
    const parts: Uint8Array[] = []
    for await (const part of bytes) parts.push(part)
    await copy.put(cid, Buffer.concat(parts))
  }
  return copy
}

async function mineTo (block: bigint): Promise<void> {
  const head = await as.funder.public.getBlockNumber()
  if (head < block) await as.funder.public.request({ method: 'anvil_mine' as never, params: [toHex(block - head)] as never })
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-storage-'))
  devnet = await startDevnet({ home })
  for (const [i, name] of ['funder', 'p1', 'p2', 'p3'].entries()) as[name] = await connect(devnet.rpcUrl, devnetAccount(i))
  deployment = await deploy(as.funder)
  for (const name of ['p1', 'p2', 'p3']) {
    await transferTokens(as.funder, deployment, as[name].account.address, parseEther('1000'))
    await registerAndStake(as[name], deployment, { peerId: toHex(name), roles: [], amount: parseEther('500') })
  }
  store = await openStore(join(home, 'store'))
  await initDataset(store, 'corpus')
  const data = join(home, 'data')
  await writeFile(data + '.jsonl', rows(6000))
  const committed = await commitVersion(store, { name: 'corpus', path: data + '.jsonl', message: 'v1', author: 'test', time: 1_700_000_000 })
  version = committed.cid
  tree = committed.version.tree
})

after(async () => {
  await store?.close()
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

describe('storage deals on anvil', () => {
  it('two providers prove and are paid; one deletes its blocks and is slashed; a third takes the slot', async (t) => {
    const { dealId } = await createStorageDeal(as.funder, deployment, store.blocks, version, TERMS)
    const blocks = { p1: await copyOfVersion(), p2: await copyOfVersion(), p3: new MemoryBlockstore() }
    await joinStorageDeal(as.p1, deployment, dealId, 0)
    await joinStorageDeal(as.p2, deployment, dealId, 1)
    const paid0 = { p1: await tokenBalance(as.p1, deployment, as.p1.account.address), p2: await tokenBalance(as.p2, deployment, as.p2.account.address) }
    const gas: Array<{ gas: bigint, bytes: number }> = []
    const prove = async (name: 'p1' | 'p2' | 'p3', slot: number, epoch: number): Promise<void> => {
      const { receipt, bytes } = await proveStorage(as[name], deployment, blocks[name], { dealId, slot, epoch, tree })
      gas.push({ gas: receipt.gasUsed, bytes })
    }

    for (const epoch of [1, 2]) {
      await mineTo((await storageWindow(as.funder, deployment, dealId, epoch)).opens)
      await prove('p1', 0, epoch)
      await prove('p2', 1, epoch)
    }
    assert.equal(await tokenBalance(as.p1, deployment, as.p1.account.address) - paid0.p1, 2n * TERMS.pricePerEpoch)
    assert.equal(await tokenBalance(as.p2, deployment, as.p2.account.address) - paid0.p2, 2n * TERMS.pricePerEpoch)

    // p2 drops the file's leaves: the next draw lands on a block it no longer has.
    for await (const { cid } of blocks.p2.getAll()) if (cid.code === raw.code) await blocks.p2.delete(cid)
    const w3 = await storageWindow(as.funder, deployment, dealId, 3)
    await mineTo(w3.opens)
    await prove('p1', 0, 3)
    await assert.rejects(prove('p2', 1, 3), { name: 'VersionNotFoundError' })
    await mineTo(w3.closes)
    const funderBefore = await tokenBalance(as.funder, deployment, as.funder.account.address)
    const stakeBefore = (await readStake(as.p1, deployment, as.p2.account.address)).staked
    await reportMissedStorage(as.p1, deployment, dealId, 1)
    assert.equal(await tokenBalance(as.funder, deployment, as.funder.account.address) - funderBefore, TERMS.collateral / 2n)
    assert.equal(stakeBefore - (await readStake(as.p1, deployment, as.p2.account.address)).staked, TERMS.collateral / 2n)
    assert.equal((await readStorageDeal(as.funder, deployment, dealId)).slots[1].provider, null)

    // p3 fetches the version (a copy here; over bitswap in the storer role) and takes the slot.
    for await (const { cid, bytes } of store.blocks.getAll()) {
      const parts: Uint8Array[] = []
      for await (const part of bytes) parts.push(part)
      await blocks.p3.put(cid, Buffer.concat(parts))
    }
    assert.deepEqual((await walkDag(blocks.p3, [version])).missing, [])
    await joinStorageDeal(as.p3, deployment, dealId, 1)
    const deal = await readStorageDeal(as.funder, deployment, dealId)
    assert.equal(deal.slots[1].provider, as.p3.account.address)
    const first = deal.slots[1].nextEpoch
    for (let epoch = 4; epoch < TERMS.epochs; epoch++) {
      await mineTo((await storageWindow(as.funder, deployment, dealId, epoch)).opens)
      await prove('p1', 0, epoch)
      if (epoch >= first) await prove('p3', 1, epoch)
    }
    assert.equal(await tokenBalance(as.p1, deployment, as.p1.account.address) - paid0.p1, 5n * TERMS.pricePerEpoch)
    await releaseStorageSlot(as.p1, deployment, dealId, 0)
    await releaseStorageSlot(as.p3, deployment, dealId, 1)
    await mineTo((await storageWindow(as.funder, deployment, dealId, TERMS.epochs - 1)).closes)
    await refundStorageDeal(as.funder, deployment, dealId)
    assert.equal(await tokenBalance(as.funder, deployment, deployment.contracts.storageMarket), 0n)

    const perKiB = gas.map(g => `${g.gas} gas / ${(g.bytes / 1024).toFixed(1)} KiB`)
    t.diagnostic(`prove gas (whole tx, calldata included): ${perKiB.join(', ')}`)
    assert.ok(gas.every(g => g.gas < 600_000n), 'a text-dataset proof (leaves of at most 16 KiB) stays under 600k gas')
  })

  it('a DAO funds storage of its canonical version by a proposal, and is the deal\'s funder', async () => {
    const me = as.funder.account.address
    const { dao } = await createDao(as.funder, deployment, { name: 'corpus', head: version.toString(), members: [{ account: me, shares: 100n }] })
    await transferTokens(as.funder, deployment, dao, parseEther('1000'))
    const terms = { ...TERMS, epochs: 3 }
    const { proposalId } = await propose(as.funder, dao, { actions: await fundStorageActions(deployment, store.blocks, version, terms), description: 'keep the canonical version: 2 replicas, 3 epochs' })
    await advanceTime(devnet.rpcUrl, 2)
    await vote(as.funder, dao, proposalId, 'for')
    await advanceTime(devnet.rpcUrl, 61)
    await queue(as.funder, dao, proposalId)
    await advanceTime(devnet.rpcUrl, 10)
    const before = await tokenBalance(as.funder, deployment, dao)
    const receipt = await execute(as.funder, dao, proposalId)
    const dealId = (await listStorageDeals(as.funder, deployment)).length
    const deal = await readStorageDeal(as.funder, deployment, BigInt(dealId))
    assert.equal(receipt.status, 'success')
    assert.equal(deal.funder, dao)
    assert.equal(deal.version.toString(), version.toString())
    assert.equal(before - await tokenBalance(as.funder, deployment, dao), 2n * 3n * TERMS.pricePerEpoch, 'the escrow left the treasury')
  })
})
