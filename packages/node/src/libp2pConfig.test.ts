import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryBlockstore } from 'blockstore-core'
import { putRaw } from '@commons/store'
import { startNetwork } from './index.ts'

describe('libp2p config', () => {
  it('dials over WebSockets and fetches over that connection', async () => {
    const storeA = new MemoryBlockstore()
    const a = await startNetwork({ blockstore: storeA, listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    const b = await startNetwork({ blockstore: new MemoryBlockstore() })
    try {
      const ws = a.multiaddrs().find(address => address.includes('/ws/'))
      assert.ok(ws !== undefined, `A listens on WebSockets: ${a.multiaddrs().join(' ')}`)
      await b.connect(ws)
      const cid = await putRaw(storeA, new TextEncoder().encode('over websockets'))
      assert.deepEqual(await b.fetchDag(cid, { timeoutMs: 5_000 }), { blocks: 1, bytes: 15 })
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('dials over WebRTC-Direct, the transport a browser dials without a certificate', async () => {
    const storeA = new MemoryBlockstore()
    const a = await startNetwork({ blockstore: storeA, listen: ['/ip4/127.0.0.1/udp/0/webrtc-direct'] })
    const b = await startNetwork({ blockstore: new MemoryBlockstore() })
    try {
      const direct = a.multiaddrs().find(address => address.includes('/webrtc-direct/certhash/'))
      assert.ok(direct !== undefined, `A listens on WebRTC-Direct: ${a.multiaddrs().join(' ')}`)
      await b.connect(direct)
      const cid = await putRaw(storeA, new TextEncoder().encode('over webrtc'))
      assert.deepEqual(await b.fetchDag(cid, { timeoutMs: 5_000 }), { blocks: 1, bytes: 11 })
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('listens on every interface when asked, and on loopback only by default', async () => {
    const wide = await startNetwork({ blockstore: new MemoryBlockstore(), listen: ['/ip4/0.0.0.0/tcp/0'] })
    const narrow = await startNetwork({ blockstore: new MemoryBlockstore() })
    try {
      assert.ok(narrow.multiaddrs().every(address => address.startsWith('/ip4/127.0.0.1/')), narrow.multiaddrs().join(' '))
      // 0.0.0.0 expands to each interface's address; loopback is one of them.
      assert.ok(wide.multiaddrs().some(address => address.startsWith('/ip4/127.0.0.1/tcp/')), wide.multiaddrs().join(' '))
    } finally {
      await Promise.all([wide.stop(), narrow.stop()])
    }
  })
})
