import { CarBlockIterator } from '@ipld/car/iterator'
import { CarWriter } from '@ipld/car/writer'
import { dagBlocks, keyOf, linksOf, type BlockReader } from '@commons/store'
import { equals } from 'multiformats/bytes'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Blockstore } from 'interface-blockstore'
import { DAG_PROTOCOL, DAG_STREAM_BATCH_BYTES, DAG_STREAM_WRITES } from './constants.ts'

/**
 * Whole-DAG transfer between Commons nodes: the fetcher names a root, the holder
 * answers with the DAG as one CAR stream, depth first (what a trustless gateway's
 * `?format=car` serves), or closes the stream at once if it lacks the root. One stream
 * and no per-block round trip, where bitswap asks and answers block by block. The
 * fetcher trusts nothing it is sent: a block is kept only if it is the root or linked
 * from a block already kept, and only if its bytes hash to its CID; anything else
 * ends the stream, and what is still missing is left to bitswap.
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

async function readRequest (stream: Stream): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const chunk of stream) parts.push(chunk instanceof Uint8Array ? chunk : chunk.subarray())
  return parts.length === 1 ? parts[0] : Buffer.concat(parts)
}

async function sendCar (stream: Stream, blocks: BlockReader, root: CID): Promise<void> {
  const { writer, out } = CarWriter.create([root])
  const feed = (async () => {
    try {
      for await (const block of dagBlocks(blocks, root)) await writer.put(block)
    } finally {
      await writer.close()
    }
  })()
  // The CAR writer yields a few bytes at a time (lengths, CIDs, data): batched, so each
  // send fills the muxer's frames instead of paying a frame per piece.
  let batch: Uint8Array[] = []
  let size = 0
  const flush = async (): Promise<void> => {
    if (size === 0) return
    const bytes = batch.length === 1 ? batch[0] : Buffer.concat(batch, size)
    batch = []
    size = 0
    if (!stream.send(bytes)) await stream.onDrain()
  }
  for await (const piece of out) {
    batch.push(piece)
    size += piece.length
    if (size >= DAG_STREAM_BATCH_BYTES) await flush()
  }
  await flush()
  await feed
}

export interface DagStreamResult {
  /** Distinct blocks of the DAG received, checked and stored. */
  blocks: number
  bytes: number
  /** Whether every block reachable from the root arrived. */
  complete: boolean
}

export interface FetchDagStreamOptions {
  signal?: AbortSignal
  /** Longest wait for the next block before the stream is given up. */
  timeoutMs: number
}

/**
 * Asks `peer` for the DAG under `root` and stores what it sends into `blocks`, each
 * block checked. Never throws for the peer's faults (a refusal, a lie, a stall, a
 * protocol it does not speak): the result says how far it got. Throws the caller's
 * abort reason if the caller aborts.
 */
export async function fetchDagStream (
  libp2p: Pick<Libp2p, 'dialProtocol'>, peer: PeerId, root: CID, blocks: Pick<Blockstore, 'put'>, options: FetchDagStreamOptions
): Promise<DagStreamResult> {
  const stall = new AbortController()
  let timer = setTimeout(() => { stall.abort() }, options.timeoutMs)
  const signal = options.signal === undefined ? stall.signal : AbortSignal.any([stall.signal, options.signal])
  // Keyed by the CIDs' bytes (store's keyOf): a whole run's CIDs as base32 strings do not fit a small heap.
  const expected = new Set([keyOf(root)])
  const seen = new Set([keyOf(root)])
  const result: DagStreamResult = { blocks: 0, bytes: 0, complete: false }
  let stream: Stream | undefined
  const writes = new Set<Promise<void>>()
  let writeError: { error: unknown } | undefined
  try {
    stream = await libp2p.dialProtocol(peer, DAG_PROTOCOL, { signal })
    stream.send(root.bytes)
    await stream.close({ signal })
    const open = stream
    signal.addEventListener('abort', () => { open.abort(new Error('DAG stream stalled or aborted')) }, { once: true })
    const car = await CarBlockIterator.fromIterable(bytesOf(stream))
    const roots = await car.getRoots()
    if (roots.length !== 1 || !roots[0].equals(root)) throw new Error('the CAR names another root')
    for await (const { cid, bytes } of car) {
      const key = keyOf(cid)
      if (!expected.has(key)) throw new Error(`block ${cid} was not asked for`)
      if (cid.multihash.code !== sha256.code || !equals((await sha256.digest(bytes)).digest, cid.multihash.digest)) {
        throw new Error(`block ${cid} does not match its CID`)
      }
      expected.delete(key)
      // Stored in the background, a bounded number at a time: the stream keeps flowing
      // while a blockstore on disk writes (a block counts only once its write is done).
      const put: Promise<void> = Promise.resolve(blocks.put(cid, bytes)).then(() => {}, (error: unknown) => { writeError ??= { error } })
        .finally(() => { writes.delete(put) })
      writes.add(put)
      if (writes.size >= DAG_STREAM_WRITES) await Promise.race(writes)
      result.blocks++
      result.bytes += bytes.length
      for (const link of linksOf(cid, bytes)) {
        const linkKey = keyOf(link)
        if (seen.has(linkKey)) continue
        seen.add(linkKey)
        expected.add(linkKey)
      }
      clearTimeout(timer)
      timer = setTimeout(() => { stall.abort() }, options.timeoutMs)
    }
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason
    stream?.abort(error as Error)
  } finally {
    clearTimeout(timer)
    await Promise.all(writes)
  }
  // Our own disk failing is no fault of the peer's: it stops the fetch.
  if (writeError !== undefined) throw (writeError as { error: unknown }).error
  result.complete = expected.size === 0 && result.blocks > 0
  return result
}

async function * bytesOf (stream: Stream): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) yield chunk instanceof Uint8Array ? chunk : chunk.subarray()
}
