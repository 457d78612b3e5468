import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { libp2pDefaults } from '@helia/libp2p'
import { bootstrap } from '@libp2p/bootstrap'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { MemoryBlockstore } from 'blockstore-core'
import { FsBlockstore } from 'blockstore-fs'
import { createHelia } from 'helia'
import { commitVersion, exportVersion, generateRows, initDataset, openStore, putRaw, rowsToBytes, walkDag, type Store } from '@commons/store'
import { createAnnouncer, startNetwork, type NetworkNode } from './index.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-dht-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

async function waitFor (condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

async function files (dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) found.set(join(entry.parentPath, entry.name).slice(dir.length + 1), (await readFile(join(entry.parentPath, entry.name))).toString('base64'))
  }
  return found
}

/**
 * A Helia node as `createHelia` makes it, changed only where a test machine without
 * internet access requires: it listens on loopback, its one bootstrap peer is `peer`
 * (not the public bootstrappers), the services that reach public servers (delegated
 * routing, AutoTLS, UPnP) and LAN discovery (mDNS) are left out, and its DHT keeps
 * loopback addresses (the default drops private ones, which on loopback are all).
 */
function plainHelia (blockstoreDir: string, peer: string): ReturnType<typeof createHelia> {
  const config = libp2pDefaults()
  const services: Record<string, unknown> = config.services
  for (const outside of ['delegatedPeerRouting', 'delegatedContentRouting', 'autoTLS', 'upnp']) delete services[outside]
  config.services.dht = kadDHT({ peerInfoMapper: passthroughMapper })
  config.addresses = { listen: ['/ip4/127.0.0.1/tcp/0'] }
  config.peerDiscovery = [bootstrap({ list: [peer] })]
  return createHelia({ blockstore: new FsBlockstore(blockstoreDir), libp2p: config })
}

describe('DHT', () => {
  it('a plain Helia node that knows one DHT peer finds a dataset\'s provider through the DHT and fetches it', async () => {
    const stores: Store[] = []
    const nodes: NetworkNode[] = []
    const helia = { node: null as ReturnType<typeof createHelia> | null }
    try {
      // Three Commons nodes: B is the DHT peer everyone knows; A holds the dataset; C is a bystander.
      const open = async (name: string): Promise<Store> => { const s = await openStore(join(root, name)); stores.push(s); return s }
      const storeA = await open('a')
      const b = await startNetwork({ blockstore: (await open('b')).blocks })
      nodes.push(b)
      const a = await startNetwork({ blockstore: storeA.blocks, bootstrap: b.multiaddrs() })
      const c = await startNetwork({ blockstore: (await open('c')).blocks, bootstrap: b.multiaddrs() })
      nodes.push(a, c)
      await waitFor(() => a.peers().includes(b.peerId) && c.peers().includes(b.peerId), 'A and C to reach B')

      const data = join(root, 'data')
      await mkdir(data)
      await writeFile(join(data, 'rows.jsonl'), rowsToBytes(generateRows(300_000, 8)))
      await writeFile(join(data, 'weights.bin'), randomBytes(400_000))
      await initDataset(storeA, 'corpus')
      const { cid } = await commitVersion(storeA, { name: 'corpus', path: data, message: 'one', author: 't', time: 1 })
      const announcer = createAnnouncer({ network: a, store: storeA }, { intervalMs: 60_000 })
      await announcer.scan()
      assert.deepEqual(announcer.provided(), [cid.toString()])

      const heliaDir = join(root, 'helia')
      const node = plainHelia(join(heliaDir, 'blocks'), b.multiaddrs()[0])
      helia.node = node
      await node.start()
      await waitFor(() => node.libp2p.getPeers().some(p => p.toString() === b.peerId), 'Helia to reach B')
      assert.ok(!node.libp2p.getPeers().some(p => p.toString() === a.peerId), 'Helia starts without a connection to A')

      // Helia's own way to fetch a whole DAG: pinning walks it, wanting each block over bitswap.
      for await (const _ of node.pins.add(cid, { signal: AbortSignal.timeout(30_000) })) { /* each pinned block */ }
      assert.ok(node.libp2p.getPeers().some(p => p.toString() === a.peerId), 'Helia found A through the DHT and dialled it')

      // The other way: a block only Helia holds, provided in the DHT, reaches C over bitswap
      // (Helia speaks no whole-DAG protocol, so C's stream attempts fail and bitswap takes over).
      const note = new TextEncoder().encode('a note only the Helia node holds')
      const noteCid = await putRaw(node.blockstore, note)
      await node.routing.provide(noteCid, { signal: AbortSignal.timeout(10_000) })
      assert.deepEqual(await c.fetchDag(noteCid, { timeoutMs: 10_000 }), { blocks: 1, bytes: note.length })
      await node.stop()
      helia.node = null

      // What Helia stored is the dataset: our store reads it back, every block checked.
      const storeH = await open('helia')
      const walked = await walkDag(storeH.blocks, [cid])
      assert.deepEqual({ missing: walked.missing.length, corrupt: walked.corrupt.length }, { missing: 0, corrupt: 0 })
      assert.equal(walked.blocks, (await walkDag(storeA.blocks, [cid])).blocks)
      const out = join(root, 'out')
      await exportVersion(storeH, cid.toString(), out)
      assert.deepEqual(await files(out), await files(data))
    } finally {
      await helia.node?.stop()
      await Promise.all(nodes.map(async n => n.stop()))
      await Promise.all(stores.map(async s => s.close()))
    }
  })

  it('the announcer provides a version committed while it runs; a node that knows only a DHT peer finds the holder and fetches it', async () => {
    const storeA = await openStore(join(root, 'announce-a'))
    const storeB = await openStore(join(root, 'announce-b'))
    const b = await startNetwork({ blockstore: storeB.blocks })
    const a = await startNetwork({ blockstore: storeA.blocks, bootstrap: b.multiaddrs() })
    const announcer = createAnnouncer({ network: a, store: storeA }, { intervalMs: 200 })
    try {
      await waitFor(() => a.peers().includes(b.peerId), 'A to reach B')
      await announcer.start()
      const data = join(root, 'announce-data')
      await mkdir(data)
      await writeFile(join(data, 'run.bin'), randomBytes(50_000))
      await initDataset(storeA, 'run-1')
      const { cid } = await commitVersion(storeA, { name: 'run-1', path: data, message: 'a run', author: 't', time: 1 })
      await waitFor(() => announcer.provided().includes(cid.toString()), 'the new version to be provided')
      const found: string[] = []
      for await (const provider of b.findProviders(cid, { signal: AbortSignal.timeout(10_000) })) { found.push(provider); break }
      assert.deepEqual(found, [a.peerId])

      // A Commons node that knows only B: no connected peer holds the run, so it asks the
      // DHT, dials A and takes the whole DAG in one stream.
      const storeD = await openStore(join(root, 'announce-d'))
      const d = await startNetwork({ blockstore: storeD.blocks, bootstrap: b.multiaddrs() })
      try {
        await waitFor(() => d.peers().includes(b.peerId), 'D to reach B')
        assert.ok(!d.peers().includes(a.peerId))
        const fetched = await d.fetchDag(cid, { timeoutMs: 10_000 })
        assert.ok(d.peers().includes(a.peerId), 'D found A through the DHT')
        const held = await walkDag(storeD.blocks, [cid])
        assert.deepEqual({ blocks: fetched.blocks, missing: held.missing.length }, { blocks: (await walkDag(storeA.blocks, [cid])).blocks, missing: 0 })
      } finally {
        await d.stop()
        await storeD.close()
      }
    } finally {
      await announcer.stop()
      await Promise.all([a.stop(), b.stop()])
      await Promise.all([storeA.close(), storeB.close()])
    }
  })

  it('the announcer retries what no DHT peer could take until one can', async () => {
    const storeA = await openStore(join(root, 'retry-a'))
    const a = await startNetwork({ blockstore: storeA.blocks })
    const announcer = createAnnouncer({ network: a, store: storeA }, { intervalMs: 100 })
    let b: NetworkNode | null = null
    try {
      const data = join(root, 'retry-data')
      await mkdir(data)
      await writeFile(join(data, 'rows.txt'), 'one\ntwo\n')
      await initDataset(storeA, 'lonely')
      const { cid } = await commitVersion(storeA, { name: 'lonely', path: data, message: 'm', author: 't', time: 1 })
      await announcer.start()
      await announcer.scan()
      assert.deepEqual(announcer.provided(), [], 'alone, nobody takes the record')
      b = await startNetwork({ blockstore: new MemoryBlockstore() })
      await a.connect(b.multiaddrs()[0])
      await waitFor(() => announcer.provided().includes(cid.toString()), 'the record to be taken once a DHT peer is there')
    } finally {
      await announcer.stop()
      await Promise.all([a.stop(), b?.stop()])
      await storeA.close()
    }
  })
})
