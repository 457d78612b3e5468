import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther, toHex } from 'viem'
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import { BINARY_CHUNKS, commitVersion, fastCdcChunks, initDataset, openStore, type Store } from '@commons/store'
import {
  buildStorageProof, checkStorageProvable, connect, createStorageDeal, deploy, devnetAccount, joinStorageDeal, proofGasBound, proveStorage, registerAndStake,
  startDevnet, storageMarketAbi, storageProofBound, storageWindow, transferTokens, TX_GAS_CAP, type Clients, type Deployment, type Devnet
} from './index.ts'

/**
 * An honest provider must be able to answer every challenge in one transaction. The
 * heaviest proof the store can make, a leaf of the largest chunk FastCDC cuts, is proven
 * on anvil under the transaction gas cap, and below the bound the deal's checks use; a
 * version whose directory is too wide for that is refused before anyone stakes on it.
 */

let root: string
let devnet: Devnet
let deployment: Deployment
let store: Store
let funder: Clients
let provider: Clients

/** A byte FastCDC never cuts at when repeated: every chunk of it is the largest there is. */
async function uncutByte (): Promise<number> {
  for (let b = 1; b < 256; b++) {
    const sizes: number[] = []
    for await (const chunk of fastCdcChunks([new Uint8Array(3 * BINARY_CHUNKS.maxSize).fill(b)], BINARY_CHUNKS)) sizes.push(chunk.length)
    if (sizes.every(size => size === BINARY_CHUNKS.maxSize)) return b
  }
  throw new Error('every byte value cuts')
}

async function commitDir (name: string, files: Array<[string, Uint8Array]>): Promise<{ version: CID, tree: CID }> {
  const dir = join(root, name)
  await mkdir(dir, { recursive: true })
  for (const [file, bytes] of files) await writeFile(join(dir, file), bytes)
  await initDataset(store, name)
  const { cid, version } = await commitVersion(store, { name, path: dir, message: name, author: 'test', time: 1 })
  return { version: cid, tree: version.tree }
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-storage-bound-'))
  devnet = await startDevnet({ home: join(root, 'chain') })
  ;[funder, provider] = [await connect(devnet.rpcUrl, devnetAccount(0)), await connect(devnet.rpcUrl, devnetAccount(1))]
  deployment = await deploy(funder)
  await transferTokens(funder, deployment, provider.account.address, parseEther('1000'))
  await registerAndStake(provider, deployment, { peerId: toHex('p'), roles: [], amount: parseEther('500') })
  store = await openStore(join(root, 'store'))
})
after(async () => {
  await store?.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

describe('the heaviest storage proof', () => {
  it('a leaf of the largest chunk the store cuts is proven under the transaction gas cap, and under its bound', { timeout: 120_000 }, async (t) => {
    const byte = await uncutByte()
    const { version, tree } = await commitDir('largest', [['blob.bin', new Uint8Array(3 * BINARY_CHUNKS.maxSize).fill(byte)]])
    const bound = await storageProofBound(store.blocks, tree)
    assert.equal(bound.leafBytes, BINARY_CHUNKS.maxSize, 'the heaviest path ends at a largest chunk')
    assert.deepEqual(await storageProofBound(store.blocks, tree, { readLeaves: true }), bound, 'Tsize told the truth')

    const terms = { replicas: 1, epochs: 3, epochBlocks: 40, pricePerEpoch: parseEther('1'), collateral: parseEther('10'), slashBps: 5_000 }
    const { dealId } = await createStorageDeal(funder, deployment, store.blocks, version, terms)
    await joinStorageDeal(provider, deployment, dealId, 0)
    const { opens } = await storageWindow(funder, deployment, dealId, 1)
    const head = await funder.public.getBlockNumber()
    await funder.public.request({ method: 'anvil_mine' as never, params: [toHex(opens - head)] as never })
    const { receipt, bytes } = await proveStorage(provider, deployment, store.blocks, { dealId, slot: 0, epoch: 1, tree })
    assert.equal(receipt.status, 'success')
    // Every leaf is the same largest chunk: whatever the seed, this is the heaviest path.
    assert.equal(bytes, bound.bytes)
    assert.ok(receipt.gasUsed <= BigInt(bound.gas), `measured ${receipt.gasUsed} within the bound ${bound.gas}`)
    assert.ok(bound.gas <= TX_GAS_CAP, `the bound ${bound.gas} fits one transaction (${TX_GAS_CAP})`)
    assert.ok(Number(receipt.gasUsed) > 0.8 * bound.gas, `the bound is not loose: ${receipt.gasUsed} of ${bound.gas}`)
    t.diagnostic(`largest chunk ${bound.leafBytes} B, proof ${bytes} B over ${bound.depth} nodes: ${receipt.gasUsed} gas (bound ${bound.gas}, cap ${TX_GAS_CAP})`)
  })

  it('a version with a directory too wide to prove in one transaction is refused by name', { timeout: 120_000 }, async (t) => {
    const byte = await uncutByte()
    // 700 entries with 200-byte names: one flat directory node (below the importer's
    // 256 KiB sharding threshold) of ~175 KB on every path, over a largest chunk.
    const files: Array<[string, Uint8Array]> = [['blob.bin', new Uint8Array(2 * BINARY_CHUNKS.maxSize).fill(byte)]]
    for (let i = 0; i < 700; i++) files.push([`${String(i).padStart(6, '0')}-${'a-long-descriptive-name-'.repeat(8)}.txt`, new TextEncoder().encode(`row ${i}\n`)])
    const { version, tree } = await commitDir('wide', files)
    const bound = await storageProofBound(store.blocks, tree)
    assert.ok(bound.gas > TX_GAS_CAP, `bound ${bound.gas}`)
    await assert.rejects(createStorageDeal(funder, deployment, store.blocks, version, { replicas: 1, epochs: 3, epochBlocks: 40, pricePerEpoch: 1n, collateral: 1n, slashBps: 0 }),
      (error: Error) => error.name === 'StorageProofTooLargeError')
    await assert.rejects(checkStorageProvable(store.blocks, tree), (error: Error) => error.name === 'StorageProofTooLargeError')
    t.diagnostic(`wide directory: heaviest proof ${bound.bytes} B (${bound.depth} nodes, ${bound.links} links), bound ${bound.gas} gas`)
  })

  it('bounds a text proof too, where execution, not the calldata floor, sets the price', { timeout: 120_000 }, async (t) => {
    const lines = []
    for (let i = 0; i < 20_000; i++) lines.push(JSON.stringify({ id: i, text: `row ${i} ${(i * 2654435761 >>> 0).toString(36).repeat(1 + i % 9)}` }))
    // Beside the rows, 300 small notes: every path then crosses a directory node of 301
    // links, whose execution (~2,650 gas a link) outweighs its calldata floor (40 gas a
    // byte, ~50 bytes a link), so every drawn proof is priced by execution.
    const notes: Array<[string, Uint8Array]> = Array.from({ length: 300 }, (_, i) => [`n${String(i).padStart(3, '0')}.txt`, new TextEncoder().encode(`note ${i}\n`)])
    const { version, tree } = await commitDir('text', [['rows.jsonl', new TextEncoder().encode(lines.join('\n'))], ...notes])
    const terms = { replicas: 1, epochs: 6, epochBlocks: 40, pricePerEpoch: parseEther('1'), collateral: parseEther('10'), slashBps: 5_000 }
    const { dealId } = await createStorageDeal(funder, deployment, store.blocks, version, terms)
    await joinStorageDeal(provider, deployment, dealId, 0)
    for (const epoch of [1, 2, 3, 4, 5]) {
      const { opens } = await storageWindow(funder, deployment, dealId, epoch)
      const head = await funder.public.getBlockNumber()
      if (head < opens) await funder.public.request({ method: 'anvil_mine' as never, params: [toHex(opens - head)] as never })
      const seed = await funder.public.readContract({ address: deployment.contracts.storageMarket as `0x${string}`, abi: storageMarketAbi, functionName: 'challengeSeed', args: [dealId, 0n, epoch], blockTag: 'pending' })
      const drawn = await buildStorageProof(store.blocks, tree, seed)
      const bound = proofGasBound({ links: drawn.nodes.reduce((sum, n) => sum + dagPb.decode(n).Links.length, 0), blocks: [...drawn.nodes.map(n => n.length), drawn.leaf.length] })
      const { receipt, bytes } = await proveStorage(provider, deployment, store.blocks, { dealId, slot: 0, epoch, tree })
      // The calldata floor of the proof's bytes alone (selector and ABI words left out).
      const floor = 21_000 + 40 * bytes
      assert.ok(Number(receipt.gasUsed) > floor + 40 * 512, `${receipt.gasUsed} gas is over the calldata floor ${floor}: execution set the price, so the bound's execution part is tested`)
      assert.ok(receipt.gasUsed <= BigInt(bound), `measured ${receipt.gasUsed} within the bound ${bound}`)
      t.diagnostic(`text proof ${bytes} B: ${receipt.gasUsed} gas (floor ${floor}), bound ${bound}`)
    }
  })
})
