import * as CarBufferWriter from '@ipld/car/buffer-writer'
import { dagBlocks, type BlockReader } from '@commons/store'
import { varint } from 'multiformats'
import { CID } from 'multiformats/cid'
import { Uint8ArrayList } from 'uint8arraylist'
import type { Libp2p, Stream } from '@libp2p/interface'
import { sendWithBackpressure } from './streamDrain.ts'
import { DAG_PROTOCOL, DAG_STREAM_BATCH_BYTES, DAG_STREAM_READ_AHEAD } from './constants.ts'

/**
 * The holder's half of the whole-DAG stream (dagStream.ts has the fetcher's): the
 * fetcher names a root, the holder answers with the DAG under it as one CARv1, depth
 * first (what a trustless gateway's `?format=car` serves), or closes the stream at once
 * if it lacks the root.
 *
 * The holder does not hash what it serves. Every block entered its store checked (made
 * from its own bytes by a commit, or checked against its CID when fetched or imported),
 * and the fetcher hashes every block it receives and ends the stream at the first that
 * does not match. A block damaged on the holder's disk since costs the fetcher that one
 * stream (it goes on over bitswap), never a wrong block kept; hashing here as well
 * would only spend the holder's CPU on what the fetcher does anyway.
 */

/** Serves every DAG `blocks` holds to peers that ask by `DAG_PROTOCOL`. */
export async function serveDagStream (libp2p: Pick<Libp2p, 'handle'>, blocks: BlockReader): Promise<void> {
  await libp2p.handle(DAG_PROTOCOL, async stream => {
    try {
      const root = CID.decode(await readRequest(stream))
      if (await blocks.has(root)) await sendCar(stream, blocks, root)
      await stream.close()
    } catch (error) {
      stream.abort(error as Error)
    }
  })
}

/** The longest request taken: a CID's bytes (a sha2-256 CIDv1 is 36; any CID we hold is well under this). */
const MAX_REQUEST_BYTES = 256
/** The longest wait for a request to end. */
const REQUEST_TIMEOUT_MS = 10_000

/**
 * The root the fetcher names, its stream's bytes until it closes its end. More than a
 * CID's worth, or a request that does not end, ends the stream: read whole and without a
 * limit, a peer could have the holder buffer whatever it sent for as long as it sent it.
 */
async function readRequest (stream: Stream): Promise<Uint8Array> {
  const request = new Uint8ArrayList()
  const timer = setTimeout(() => { stream.abort(new Error('the DAG request did not end in time')) }, REQUEST_TIMEOUT_MS)
  try {
    for await (const chunk of stream) {
      request.append(chunk)
      if (request.byteLength > MAX_REQUEST_BYTES) throw new Error(`a DAG request of more than ${MAX_REQUEST_BYTES} bytes`)
    }
  } finally {
    clearTimeout(timer)
  }
  return request.subarray()
}

/**
 * The CAR written straight into large sends: each block's section (length, CID, bytes)
 * appended by reference to a list that goes out once it holds `DAG_STREAM_BATCH_BYTES`,
 * so the muxer fills whole frames and no block is copied on its way to the encrypter.
 */
async function sendCar (stream: Stream, blocks: BlockReader, root: CID): Promise<void> {
  let batch = new Uint8ArrayList(carHeader(root))
  for await (const { cid, bytes } of dagBlocks(blocks, root, { verify: false, readAhead: DAG_STREAM_READ_AHEAD })) {
    batch.append(sectionHead(cid, bytes.byteLength), bytes)
    if (batch.byteLength >= DAG_STREAM_BATCH_BYTES) {
      await sendWithBackpressure(stream, batch)
      batch = new Uint8ArrayList()
    }
  }
  if (batch.byteLength > 0) await sendWithBackpressure(stream, batch)
}

/** A CARv1 header naming `root` (the CAR library's own encoding). */
function carHeader (root: CID): Uint8Array {
  const roots = [root]
  return CarBufferWriter.close(CarBufferWriter.createWriter(new ArrayBuffer(CarBufferWriter.headerLength({ roots })), { roots }))
}

/** What precedes a block's bytes in a CAR section: the section's length as a varint, then the CID. */
function sectionHead (cid: CID, size: number): Uint8Array {
  const length = cid.bytes.byteLength + size
  const head = new Uint8Array(varint.encodingLength(length) + cid.bytes.byteLength)
  varint.encodeTo(length, head)
  head.set(cid.bytes, head.byteLength - cid.bytes.byteLength)
  return head
}
