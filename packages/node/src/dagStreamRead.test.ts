import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2p } from 'libp2p'
import { streamBytesReader, type StreamBytesReader } from './dagStreamRead.ts'
import { sendWithBackpressure } from './streamDrain.ts'

const PROTOCOL = '/commons/test/flood/1.0.0'
const MB = 1 << 20

const peer = async (): Promise<Libp2p> => createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()]
})

/**
 * A holder on `a` that sends `total` bytes as fast as the stream lets it, as
 * dagStreamServe does (counted in `counter.sent`), and `b`'s reader of them.
 */
async function floodedReader (a: Libp2p, b: Libp2p, total: number, highWater: number, counter: { sent: number }): Promise<StreamBytesReader> {
  await a.handle(PROTOCOL, async stream => {
    const chunk = new Uint8Array(MB).fill(1)
    while (counter.sent < total) {
      counter.sent += chunk.length
      await sendWithBackpressure(stream, chunk)
    }
    await stream.close()
  })
  await b.dial(a.getMultiaddrs()[0])
  const stream = await b.dialProtocol(a.peerId, PROTOCOL)
  await stream.close()
  return streamBytesReader(stream, highWater)
}

/** Waits until the holder has sent everything or sent nothing more for half a second. */
async function untilStalled (total: number, counter: { sent: number }): Promise<void> {
  for (let last = -1, still = 0; still < 5 && counter.sent < total; still = counter.sent === last ? still + 1 : 0, last = counter.sent) await sleep(100)
}

describe('backpressure on a DAG stream', () => {
  it('stalls a holder whose fetcher does not read, at a bounded amount, then delivers every byte', async () => {
    const total = 128 * MB
    const highWater = 2 * MB
    const counter = { sent: 0 }
    const a = await peer()
    const b = await peer()
    try {
      const reader = await floodedReader(a, b, total, highWater, counter)
      // The fetcher reads nothing (its disk is busy) until the holder has stopped sending.
      await untilStalled(total, counter)
      // Unpaused, the fetcher would take all 128 MiB into memory; with the holder
      // awaiting stream.onDrain() (which stops waiting after a stream's first drain),
      // the holder would queue all of it in its own. What may be out: the fetcher's
      // high-water mark, what the muxer's window (at most 16 MiB) let through before the
      // pause, and one send.
      assert.ok(counter.sent <= highWater + 2 * 16 * MB + MB, `the holder sent ${counter.sent / MB} MiB to a fetcher that read nothing`)
      assert.ok(reader.buffered <= highWater + 16 * MB, `the fetcher holds ${(reader.buffered / MB).toFixed(1)} MiB unread`)
      let read = 0
      while (true) {
        const bytes = await reader.exactly(Math.min(MB, total - read), true)
        read += bytes.byteLength
        if (read === total) break
      }
      assert.equal((await reader.upTo(8)).byteLength, 0, 'the stream ends after the last byte')
      reader.release()
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('stays paused when the bytes a resume hands over fill the reader again (the muxer would grant the holder a window without end)', async () => {
    const total = 256 * MB
    // Small next to the muxer's window: what the stream holds while paused is more than the mark.
    const highWater = 256 << 10
    const counter = { sent: 0 }
    const a = await peer()
    const b = await peer()
    try {
      const reader = await floodedReader(a, b, total, highWater, counter)
      await untilStalled(total, counter)
      const before = counter.sent
      // Read down to half the high-water mark: the reader resumes the stream, which hands
      // over what it held while paused (more than the mark), so the reader pauses again
      // from inside the resume. Then nothing more is read for a while.
      let read = 0
      while (reader.buffered > highWater / 2) read += (await reader.exactly(16 << 10, true)).byteLength
      await untilStalled(total, counter)
      assert.ok(counter.sent - before <= read + 16 * MB + MB, `the holder sent ${(counter.sent - before) / MB} MiB more after the fetcher read ${(read / MB).toFixed(1)} MiB`)
      while (read < total) read += (await reader.exactly(Math.min(highWater, total - read), true)).byteLength
      assert.equal((await reader.upTo(8)).byteLength, 0, 'the stream ends after the last byte')
      reader.release()
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
