import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { CarWriter } from '@ipld/car/writer'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { MemoryBlockstore } from 'blockstore-core'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Stream } from '@libp2p/interface'
import { varint } from 'multiformats'
import { putRaw } from '@commons/store'
import { DAG_PROTOCOL, DAG_STREAM_BUFFER_BYTES } from './constants.ts'
import { fetchDagStream, serveDagStream } from './dagStream.ts'
import { sendWithBackpressure } from './streamDrain.ts'

const MB = 1 << 20

const peer = async (): Promise<Libp2p> => createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()]
})

/** Sends 1 MiB at a time on `stream` until `cap` bytes have gone, counted in `counter.sent` as they go; throws once the other end ends the stream. */
async function flood (stream: Stream, cap: number, counter: { sent: number }): Promise<void> {
  const filler = new Uint8Array(MB)
  while (counter.sent < cap) { await sendWithBackpressure(stream, filler); counter.sent += MB }
}

/** A holder that answers any request with `head`, then bytes for as long as the fetcher takes them (up to 64 MiB). */
async function lyingHolder (head: Uint8Array, counter: { sent: number }): Promise<Libp2p> {
  const liar = await peer()
  await liar.handle(DAG_PROTOCOL, async stream => {
    for await (const _ of stream) { /* the request */ }
    stream.send(head)
    try {
      await flood(stream, 64 * MB, counter)
      await stream.close()
    } catch {
      // The fetcher ended the stream.
    }
  })
  return liar
}

describe('whole-DAG stream, bounded', () => {
  it('ends the stream at a block that claims more bytes than the fetcher buffers, instead of buffering what follows', async () => {
    const root = await putRaw(new MemoryBlockstore(), new TextEncoder().encode('the root, as asked'))
    const counter = { sent: 0 }
    // The attack: the asked-for root, announced as a 1 GiB block, then bytes for as long
    // as the fetcher takes them.
    const { writer, out } = CarWriter.create([root])
    void writer.close()
    const header: Uint8Array[] = []
    for await (const part of out) header.push(part)
    const length = (1 << 30) + root.bytes.byteLength
    const liar = await lyingHolder(Uint8Array.from([...Buffer.concat(header), ...varint.encodeTo(length, new Uint8Array(varint.encodingLength(length))), ...root.bytes]), counter)
    const b = await peer()
    try {
      await b.dial(liar.getMultiaddrs()[0])
      const target = new MemoryBlockstore()
      const got = await fetchDagStream(b, liar.peerId, root, target, { timeoutMs: 5_000 })
      assert.deepEqual(got, { blocks: 0, bytes: 0, complete: false })
      assert.equal(await target.has(root), false)
      assert.ok(counter.sent <= 2 * DAG_STREAM_BUFFER_BYTES, `the holder got to send ${counter.sent / MB} MiB`)
    } finally {
      await Promise.all([liar.stop(), b.stop()])
    }
  })

  it('ends the stream at a CAR header that claims more bytes than the fetcher buffers', async () => {
    const root = await putRaw(new MemoryBlockstore(), new TextEncoder().encode('the root, as asked'))
    const counter = { sent: 0 }
    // The attack: a header announced as 1 GiB long, then bytes for as long as the fetcher takes them.
    const length = 1 << 30
    const liar = await lyingHolder(varint.encodeTo(length, new Uint8Array(varint.encodingLength(length))), counter)
    const b = await peer()
    try {
      await b.dial(liar.getMultiaddrs()[0])
      const got = await fetchDagStream(b, liar.peerId, root, new MemoryBlockstore(), { timeoutMs: 5_000 })
      assert.deepEqual(got, { blocks: 0, bytes: 0, complete: false })
      assert.ok(counter.sent <= 2 * DAG_STREAM_BUFFER_BYTES, `the holder got to send ${counter.sent / MB} MiB`)
    } finally {
      await Promise.all([liar.stop(), b.stop()])
    }
  })

  it('ends a request longer than a CID, instead of buffering what the asker sends', async () => {
    const holder = await peer()
    await serveDagStream(holder, new MemoryBlockstore())
    const asker = await peer()
    const counter = { sent: 0 }
    try {
      await asker.dial(holder.getMultiaddrs()[0])
      const stream = await asker.dialProtocol(holder.peerId, DAG_PROTOCOL)
      await assert.rejects(async () => { await flood(stream, 64 * MB, counter) })
      assert.ok(counter.sent <= 32 * MB, `the asker got to send ${counter.sent / MB} MiB`)
    } finally {
      await Promise.all([holder.stop(), asker.stop()])
    }
  })
})
