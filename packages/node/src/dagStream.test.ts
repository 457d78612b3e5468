import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { CarWriter } from '@ipld/car/writer'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { MemoryBlockstore } from 'blockstore-core'
import { createLibp2p, type Libp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { dagBlocks, importFiles, putRaw } from '@commons/store'
import { DAG_PROTOCOL } from './constants.ts'
import { fetchDagStream, serveDagStream } from './dagStream.ts'

const peer = async (): Promise<Libp2p> => createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()]
})

/** A DAG of two files, several hundred kB, in a fresh blockstore. */
async function sampleDag (): Promise<{ blocks: MemoryBlockstore, root: CID }> {
  const blocks = new MemoryBlockstore()
  const root = await importFiles(blocks, [{ path: 'a.bin', content: [randomBytes(700_000)] }, { path: 'b.txt', content: [Buffer.from('rows\n'.repeat(20_000))] }])
  return { blocks, root }
}

/** A peer that answers every DAG request with the CAR `blocksFor` makes, whatever was asked. */
async function liar (blocksFor: (root: CID) => AsyncIterable<{ cid: CID, bytes: Uint8Array }>): Promise<Libp2p> {
  const node = await peer()
  await node.handle(DAG_PROTOCOL, async stream => {
    const parts: Uint8Array[] = []
    for await (const chunk of stream) parts.push(chunk instanceof Uint8Array ? chunk : chunk.subarray())
    const root = CID.decode(Buffer.concat(parts))
    const { writer, out } = CarWriter.create([root])
    const feed = (async () => { for await (const block of blocksFor(root)) await writer.put(block); await writer.close() })()
    for await (const piece of out) if (!stream.send(piece)) await stream.onDrain()
    await feed
    await stream.close()
  })
  return node
}

describe('whole-DAG stream', () => {
  it('moves a whole DAG in one stream, every block checked, and answers a missing root with nothing', async () => {
    const { blocks, root } = await sampleDag()
    const a = await peer()
    const b = await peer()
    try {
      await serveDagStream(a, blocks)
      await b.dial(a.getMultiaddrs()[0])
      const target = new MemoryBlockstore()
      const got = await fetchDagStream(b, a.peerId, root, target, { timeoutMs: 5_000 })
      let expected = 0
      for await (const block of dagBlocks(blocks, root)) { expected++; assert.ok(await target.has(block.cid)) }
      assert.deepEqual({ blocks: got.blocks, complete: got.complete }, { blocks: expected, complete: true })

      const absent = await putRaw(new MemoryBlockstore(), new TextEncoder().encode('held by nobody'))
      assert.deepEqual(await fetchDagStream(b, a.peerId, absent, new MemoryBlockstore(), { timeoutMs: 5_000 }), { blocks: 0, bytes: 0, complete: false })
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('keeps nothing a lying peer sends: a block that does not match its CID, or one that was not asked for', async () => {
    const { blocks, root } = await sampleDag()
    const all: Array<{ cid: CID, bytes: Uint8Array }> = []
    for await (const block of dagBlocks(blocks, root)) all.push(block)
    const tampered = all.length - 1
    const stranger = { cid: await putRaw(new MemoryBlockstore(), new TextEncoder().encode('not in the DAG')), bytes: new TextEncoder().encode('not in the DAG') }
    const flip = (bytes: Uint8Array): Uint8Array => { const copy = Uint8Array.from(bytes); copy[0] ^= 0xff; return copy }
    const lies = [
      // The honest DAG, except its last block's bytes.
      async function * () { for (const [i, block] of all.entries()) yield i === tampered ? { cid: block.cid, bytes: flip(block.bytes) } : block },
      // The root, then a valid block nobody linked to.
      async function * () { yield all[0]; yield stranger; yield * all.slice(1) }
    ]
    const b = await peer()
    try {
      for (const lie of lies) {
        const node = await liar(lie)
        try {
          await b.dial(node.getMultiaddrs()[0])
          const target = new MemoryBlockstore()
          const got = await fetchDagStream(b, node.peerId, root, target, { timeoutMs: 5_000 })
          assert.equal(got.complete, false)
          if (lie === lies[0]) assert.equal(await target.has(all[tampered].cid), false, 'the tampered block is not stored')
          assert.equal(await target.has(stranger.cid), false, 'the unasked block is not stored')
          assert.equal(await target.has(root), true, 'what came before the lie, checked, is kept')
        } finally {
          await node.stop()
        }
      }
    } finally {
      await b.stop()
    }
  })
})
