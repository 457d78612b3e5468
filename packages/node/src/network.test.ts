import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import * as dagPb from '@ipld/dag-pb'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { peerIdFromString } from '@libp2p/peer-id'
import * as raw from 'multiformats/codecs/raw'
import type { CID } from 'multiformats/cid'
import {
  commitVersion, exportVersion, generateRows, getVerifiedBlock, initDataset, listFiles, openStore, readVersion, rowsToBytes, walkDag,
  PackBlockstore, type Store
} from '@commons/store'
import { createNodeKey, peerIdOfNodeKey, startNetwork, TOPICS, type NetworkNode } from './index.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-node-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

let homes = 0
async function freshStore (): Promise<Store> {
  return openStore(join(root, `home-${++homes}`))
}

async function waitFor (condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

interface Pair { a: NetworkNode, b: NetworkNode, storeA: Store, storeB: Store, close(): Promise<void> }

/** Two nodes on their own homes; B finds A through its bootstrap list only. */
async function startPair (): Promise<Pair> {
  const storeA = await freshStore()
  const storeB = await freshStore()
  const a = await startNetwork({ blockstore: storeA.blocks })
  const b = await startNetwork({ blockstore: storeB.blocks, bootstrap: a.multiaddrs() })
  await waitFor(() => b.peers().includes(a.peerId) && a.peers().includes(b.peerId), 'B to connect to A')
  return {
    a,
    b,
    storeA,
    storeB,
    async close () {
      await Promise.all([a.stop(), b.stop()])
      await Promise.all([storeA.close(), storeB.close()])
    }
  }
}

/** A dataset directory of several files, one of them spanning many raw leaves. */
async function writeSample (dir: string): Promise<void> {
  await mkdir(join(dir, 'nested'), { recursive: true })
  await writeFile(join(dir, 'corpus.jsonl'), rowsToBytes(generateRows(200_000, 5)))
  await writeFile(join(dir, 'nested', 'weights.bin'), randomBytes(600_000))
  await writeFile(join(dir, 'nested', 'notes.txt'), 'first line\nsecond line\n')
  await writeFile(join(dir, 'empty.txt'), '')
}

async function commitSample (store: Store, name: string): Promise<{ cid: CID, source: string }> {
  const source = join(root, `src-${name}`)
  await writeSample(source)
  await initDataset(store, name)
  const { cid } = await commitVersion(store, { name, path: source, message: 'first', author: 'test', time: 0 })
  return { cid, source }
}

async function treeFiles (dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.set(join(entry.parentPath, entry.name).slice(dir.length + 1), await readFile(join(entry.parentPath, entry.name)))
  }
  return files
}

describe('network', () => {
  it('moves a dataset version from one node to another by CID, byte for byte', async () => {
    const pair = await startPair()
    try {
      const { cid, source } = await commitSample(pair.storeA, 'moved')
      const fetched = await pair.b.fetchDag(cid.toString(), { timeoutMs: 10_000 })
      const expected = await walkDag(pair.storeA.blocks, [cid])
      assert.equal(fetched.blocks, expected.blocks)
      assert.equal(fetched.bytes, expected.bytes)
      assert.ok(fetched.blocks > 10, `a multi-block DAG, got ${fetched.blocks}`)
      const out = join(root, 'out-moved')
      await exportVersion(pair.storeB, cid.toString(), out)
      assert.deepEqual(await treeFiles(out), await treeFiles(source))
      // a second fetch finds everything locally
      assert.deepEqual(await pair.b.fetchDag(cid, { timeoutMs: 1_000 }), fetched)
    } finally {
      await pair.close()
    }
  })

  it('refuses a block whose bytes do not match its CID', async () => {
    const pair = await startPair()
    try {
      const { cid } = await commitSample(pair.storeA, 'tampered')
      const version = await readVersion(pair.storeA.blocks, cid)
      const weights = (await listFiles(pair.storeA.blocks, version.tree)).find(f => f.path === 'nested/weights.bin')
      assert.ok(weights !== undefined)
      const leaf = await firstRawLeaf(pair.storeA, weights.cid)
      const where = (pair.storeA.blocks as PackBlockstore).locate(leaf)
      assert.ok(where !== undefined)
      const pack = await readFile(where.path)
      pack[where.offset] ^= 0xff // same length, wrong content: A now serves a lie for this CID
      await writeFile(where.path, pack)

      const started = Date.now()
      await assert.rejects(pair.b.fetchDag(cid, { timeoutMs: 1_500 }), { name: 'FetchError' })
      assert.ok(Date.now() - started < 10_000)
      assert.equal(await pair.storeB.blocks.has(leaf), false)
      assert.equal(await pair.storeB.blocks.has(cid), true, 'the intact blocks around it did arrive')
    } finally {
      await pair.close()
    }
  })

  it('delivers a gossip message from A to a subscriber on B', async () => {
    const pair = await startPair()
    try {
      const received: Array<{ message: unknown, from: string }> = []
      const unsubscribe = pair.b.subscribe(TOPICS.jobs, (message, from) => { received.push({ message, from }) })
      const job = { kind: 'job', version: 'bafy-example', reward: '10' }
      // Subscriptions propagate asynchronously: publish until one gets through.
      const deadline = Date.now() + 15_000
      while (received.length === 0) {
        assert.ok(Date.now() < deadline, 'a message reached B in time')
        await pair.a.publish(TOPICS.jobs, job)
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      assert.deepEqual(received[0], { message: job, from: pair.a.peerId })
      unsubscribe()
    } finally {
      await pair.close()
    }
  })

  it('sends a request over the connection it opened, not one the peer opened back to check a dial and is hanging up', async () => {
    const store = await freshStore()
    const a = await startNetwork({ blockstore: store.blocks })
    const b = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    try {
      const protocol = '/commons/test/ask/1.0.0'
      await b.handle(protocol, async (stream, connection) => {
        // B's own connection to A is a dial-back, as an AutoNAT server makes and closes at once.
        if (connection.direction === 'outbound') { await connection.close(); return }
        await lpStream(stream).write(new TextEncoder().encode('answered'))
        await stream.close()
      })
      await a.connect(b.getMultiaddrs()[0].toString())
      await b.dial(multiaddr(a.multiaddrs()[0]), { force: true })
      assert.equal(b.getConnections(peerIdFromString(a.peerId)).length, 2)
      await sleep(500) // A, the noise responder, has the dial-back a message after B does
      for (let request = 0; request < 3; request++) {
        const stream = await a.dialProtocol(b.peerId.toString(), protocol)
        const answer = await lpStream(stream).read()
        assert.equal(new TextDecoder().decode(answer.subarray()), 'answered')
        await stream.close()
      }
    } finally {
      await b.stop()
      await a.stop()
      await store.close()
    }
  })

  it('keeps its peer id across restarts when given the same key', async () => {
    const key = await createNodeKey()
    const store = await freshStore()
    try {
      const first = await startNetwork({ blockstore: store.blocks, privateKey: key })
      await first.stop()
      const second = await startNetwork({ blockstore: store.blocks, privateKey: key })
      await second.stop()
      assert.equal(first.peerId, second.peerId)
      assert.equal(first.peerId, peerIdOfNodeKey(key))
    } finally {
      await store.close()
    }
  })
})

/** The first raw leaf under a UnixFS file; its internal nodes are content-defined, so it may lie deep. */
async function firstRawLeaf (store: Store, cid: CID): Promise<CID> {
  if (cid.code === raw.code) return cid
  for (const link of dagPb.decode(await getVerifiedBlock(store.blocks, cid)).Links) {
    const leaf = await firstRawLeaf(store, link.Hash).catch(() => null)
    if (leaf !== null) return leaf
  }
  throw new Error(`no raw leaf under ${cid}`)
}

