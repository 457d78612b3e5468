import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { connect, createStorageDeal, devnetAccount, readStake, readStorageDeal, storageProofBound, transferTokens, TX_GAS_CAP } from '@commons/chain'
import { BINARY_CHUNKS, commitVersion, initDataset, openStore, type Store } from '@commons/store'
import { createNode, type CommonsNode } from '../createNode.ts'
import { startNetwork, type NetworkNode } from '../network.ts'
import { NodeState } from '../state.ts'
import { startAlone, type Alone } from '../testing/alone.ts'
import { until } from '../testing/until.ts'

/**
 * The attack: a funder calls the market directly (skipping `createStorageDeal`'s check)
 * to fund a version some challenge of which no transaction can carry, hoping a storer
 * stakes on it and is slashed at that challenge however honest. The storer fetches the
 * version, bounds its heaviest proof from the blocks themselves, and does not join.
 */

let alone: Alone
const parts: Array<{ node: CommonsNode, store: Store, network: NetworkNode, state: NodeState }> = []

before(async () => { alone = await startAlone('storage-refuse') })
after(async () => {
  for (const p of parts) {
    await p.node.stop().catch(() => {})
    await p.network.stop().catch(() => {})
    p.state.close()
    await p.store.close()
  }
  await alone?.close()
})

describe('a storer and a version it could not always prove', () => {
  it('fetches it, finds a challenge too heavy for one transaction, and does not stake on it', { timeout: 180_000 }, async () => {
    const { bank, deployment } = alone
    // A directory of 700 long names (one ~175 KB node on every path) over 256 KiB chunks.
    const dir = join(alone.root, 'wide')
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'blob.bin'), new Uint8Array(2 * BINARY_CHUNKS.maxSize).fill(0x5a))
    for (let i = 0; i < 700; i++) await writeFile(join(dir, `${String(i).padStart(6, '0')}-${'a-long-descriptive-name-'.repeat(8)}.txt`), `row ${i}\n`)
    await initDataset(alone.store, 'wide')
    const { cid: version, version: commit } = await commitVersion(alone.store, { name: 'wide', path: dir, message: 'wide', author: 'test', time: 1 })
    const bound = await storageProofBound(alone.store.blocks, commit.tree)
    assert.equal(bound.leafBytes, BINARY_CHUNKS.maxSize, 'FastCDC does not cut a run of one byte: its chunks are the largest')
    assert.ok(bound.gas > TX_GAS_CAP, `the heaviest proof is over the cap (${bound.gas})`)

    const terms = { replicas: 1, epochs: 10, epochBlocks: 40, pricePerEpoch: parseEther('1'), collateral: parseEther('100'), slashBps: 5_000 }
    const { dealId } = await createStorageDeal(bank, deployment, alone.store.blocks, version, terms, Number.MAX_SAFE_INTEGER)

    const home = join(alone.root, 'storer')
    const clients = await connect(alone.devnet.rpcUrl, devnetAccount(3))
    await transferTokens(bank, deployment, clients.account.address, parseEther('1000'))
    const store = await openStore(home)
    const network = await startNetwork({ blockstore: store.blocks, bootstrap: alone.network.multiaddrs() })
    const state = new NodeState(join(home, 'state.db'))
    const lines: string[] = []
    const node = await createNode({ clients, store, network, state }, {
      home, deployment, roles: ['storer'], apiPort: false, pollMs: 100, stake: parseEther('500'), log: line => lines.push(line)
    })
    parts.push({ node, store, network, state })

    await until('the storer to look at the deal', () => lines.some(line => line.includes('not joining')), { timeoutMs: 120_000, said: () => lines.slice(-15).join('\n') })
    assert.ok(lines.some(line => /fetched/.test(line)), 'it fetched the version before judging it')
    assert.equal((await readStorageDeal(bank, deployment, dealId)).held, 0, 'nobody holds the slot')
    assert.equal((await readStake(bank, deployment, node.address)).locked, 0n, 'none of its stake is at risk')
    assert.equal(node.storage.joined, 0)
  })
})
