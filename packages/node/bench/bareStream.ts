import type { Stream } from '@libp2p/interface'
import type { NetworkNode } from '../src/network.ts'
import { DAG_STREAM_BATCH_BYTES } from '../src/constants.ts'
import { sendWithBackpressure } from '../src/streamDrain.ts'

/**
 * The transfer bench's reference for libp2p itself: one stream of the same nodes
 * (TCP, noise, yamux, as configured for Commons) that carries bytes and nothing else:
 * no DAG, no hashing, no store. Whatever a whole-DAG fetch does above this is its own cost.
 */
export const BARE_PROTOCOL = '/commons/bench/bytes/1.0.0'

/** Answers a request (a decimal byte count) with that many bytes, in sends the size the DAG stream uses, paced as it paces them. */
export async function serveBareBytes (stream: Stream): Promise<void> {
  const parts: Uint8Array[] = []
  for await (const chunk of stream) parts.push(chunk instanceof Uint8Array ? chunk : chunk.subarray())
  const total = Number(new TextDecoder().decode(Buffer.concat(parts)))
  const chunk = new Uint8Array(DAG_STREAM_BATCH_BYTES).fill(0xa5)
  for (let sent = 0; sent < total; sent += chunk.length) {
    const piece = total - sent < chunk.length ? chunk.subarray(0, total - sent) : chunk
    await sendWithBackpressure(stream, piece)
  }
  await stream.close()
}

/** `node` receives `bytes` bytes from `peer` over `BARE_PROTOCOL`, counting them. */
export async function receiveBareBytes (node: NetworkNode, peer: string, bytes: number): Promise<void> {
  const stream = await node.dialProtocol(peer, BARE_PROTOCOL)
  stream.send(new TextEncoder().encode(String(bytes)))
  await stream.close()
  let received = 0
  for await (const chunk of stream) received += chunk.byteLength
  if (received !== bytes) throw new Error(`the bare stream carried ${received} bytes of ${bytes}`)
}
