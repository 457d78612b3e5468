import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { CarWriter } from '@ipld/car/writer'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { MemoryBlockstore } from 'blockstore-core'
import { createLibp2p, type Libp2p } from 'libp2p'
import { varint } from 'multiformats'
import { putRaw } from '@commons/store'
import { DAG_PROTOCOL, DAG_STREAM_BUFFER_BYTES } from './constants.ts'
import { fetchDagStream, serveDagStream } from './dagStream.ts'
import { sendWithBackpressure } from './streamDrain.ts'

const MB = 1 << 20

const peer = async (): Promise<Libp2p> => createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()]
})

describe('whole-DAG stream, bounded', () => {
  it('ends the stream at a block that claims more bytes than the fetcher buffers, instead of buffering what follows', async () => {
    const root = await putRaw(new MemoryBlockstore(), new TextEncoder().encode('the root, as asked'))
    const cap = 64 * MB
    let sent = 0
    // The attack: the asked-for root, announced as a 1 GiB block, then bytes for as long
    // as the fetcher takes them (up to `cap`).
    const liar = await peer()
    await liar.handle(DAG_PROTOCOL, async stream => {
      for await (const _ of stream) { /* the request */ }
      const { writer, out } = CarWriter.create([root])
      void writer.close()
      for await (const header of out) stream.send(header)
      const length = (1 << 30) + root.bytes.byteLength
      stream.send(Uint8Array.from([...varint.encodeTo(length, new Uint8Array(varint.encodingLength(length))), ...root.bytes]))
      const filler = new Uint8Array(MB)
      try {
        while (sent < cap) { await sendWithBackpressure(stream, filler); sent += MB }
        await stream.close()
      } catch {
        // The fetcher ended the stream.
      }
    })
    const b = await peer()
    try {
      await b.dial(liar.getMultiaddrs()[0])
      const target = new MemoryBlockstore()
      const got = await fetchDagStream(b, liar.peerId, root, target, { timeoutMs: 5_000 })
      assert.deepEqual(got, { blocks: 0, bytes: 0, complete: false })
      assert.equal(await target.has(root), false)
      assert.ok(sent <= 2 * DAG_STREAM_BUFFER_BYTES, `the holder got to send ${sent / MB} MiB`)
    } finally {
      await Promise.all([liar.stop(), b.stop()])
    }
  })

  it('ends the stream at a CAR header that claims more bytes than the fetcher buffers', async () => {
    const root = await putRaw(new MemoryBlockstore(), new TextEncoder().encode('the root, as asked'))
    const cap = 64 * MB
    let sent = 0
    // The attack: a header announced as 1 GiB long, then bytes for as long as the fetcher takes them.
    const liar = await peer()
    await liar.handle(DAG_PROTOCOL, async stream => {
      for await (const _ of stream) { /* the request */ }
      const length = 1 << 30
      stream.send(varint.encodeTo(length, new Uint8Array(varint.encodingLength(length))))
      const filler = new Uint8Array(MB)
      try {
        while (sent < cap) { await sendWithBackpressure(stream, filler); sent += MB }
        await stream.close()
      } catch {
        // The fetcher ended the stream.
      }
    })
    const b = await peer()
    try {
      await b.dial(liar.getMultiaddrs()[0])
      const got = await fetchDagStream(b, liar.peerId, root, new MemoryBlockstore(), { timeoutMs: 5_000 })
      assert.deepEqual(got, { blocks: 0, bytes: 0, complete: false })
      assert.ok(sent <= 2 * DAG_STREAM_BUFFER_BYTES, `the holder got to send ${sent / MB} MiB`)
    } finally {
      await Promise.all([liar.stop(), b.stop()])
    }
  })

  it('ends a request longer than a CID, instead of buffering what the asker sends', async () => {
    const holder = await peer()
    await serveDagStream(holder, new MemoryBlockstore())
    const asker = await peer()
    let sent = 0
    try {
      await asker.dial(holder.getMultiaddrs()[0])
      const stream = await asker.dialProtocol(holder.peerId, DAG_PROTOCOL)
      const filler = new Uint8Array(MB)
      await assert.rejects(async () => {
        while (sent < 64 * MB) { await sendWithBackpressure(stream, filler); sent += MB }
      })
      assert.ok(sent <= 32 * MB, `the asker got to send ${sent / MB} MiB`)
    } finally {
      await Promise.all([holder.stop(), asker.stop()])
    }
  })
})
