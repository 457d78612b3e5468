import { createHash } from 'node:crypto'
import { readBlockHead, readHeader } from '@ipld/car/decoder'
import { flushBlocks, keyOf, linksOf, SeenCids, writeBehind } from '@commons/store'
import { equals } from 'multiformats/bytes'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { DAG_PROTOCOL, DAG_STREAM_BUFFER_BYTES } from './constants.ts'
import { streamBytesReader, type StreamBytesReader } from './dagStreamRead.ts'

export { serveDagStream } from './dagStreamServe.ts'

/**
 * Whole-DAG transfer between Commons nodes, the fetcher's half (dagStreamServe.ts has
 * the holder's): the fetcher names a root, the holder answers with the DAG as one CAR
 * stream, depth first. One stream and no per-block round trip, where bitswap asks and
 * answers block by block. The fetcher trusts nothing it is sent: a block is kept only
 * if it is the root or linked from a block already kept, and only if its bytes hash to
 * its CID; anything else ends the stream, and what is still missing is left to bitswap.
 */

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
  // The links not yet received (a depth-first sender keeps them few), and every CID asked for
  // (past a few million, in a temporary file: a dataset of a terabyte has 220 million).
  const expected = new Set([keyOf(root)])
  const seen = SeenCids.forStore(blocks)
  seen.add(root)
  const result: DagStreamResult = { blocks: 0, bytes: 0, complete: false }
  // Checked blocks are queued for the store's batched writes (the pack blockstore writes
  // a group of them at once), not awaited one by one; flushed before the result counts them.
  const store = writeBehind(blocks)
  let writeError: { error: unknown } | undefined
  let stream: Stream | undefined
  let reader: StreamBytesReader | undefined
  try {
    stream = await libp2p.dialProtocol(peer, DAG_PROTOCOL, { signal })
    stream.send(root.bytes)
    await stream.close({ signal })
    const open = stream
    signal.addEventListener('abort', () => { open.abort(new Error('DAG stream stalled or aborted')) }, { once: true })
    reader = streamBytesReader(stream, DAG_STREAM_BUFFER_BYTES)
    const { roots } = await readHeader(reader)
    if (roots.length !== 1 || !roots[0].equals(root)) throw new Error('the CAR names another root')
    // CAR sections read here rather than by the library's decoder, which joins a block
    // that spans received chunks into a new buffer: nearly every block of a run does
    // (the encrypter's messages are 64 KiB), and that copy was a third of the buffers the
    // fetcher allocated, each 64 MiB of which costs V8 a full collection. The block goes
    // on as the views of the chunks that carry it, hashed part by part, stored in parts.
    while ((await reader.upTo(1)).byteLength > 0) {
      const { cid, blockLength } = await readBlockHead(reader)
      const key = keyOf(cid)
      if (!expected.has(key)) throw new Error(`block ${cid} was not asked for`)
      // Waiting for a block's bytes holds them all: a claimed length past what the
      // reader buffers would make it buffer without bound (bitswap takes 4 MiB at most).
      if (blockLength > DAG_STREAM_BUFFER_BYTES) throw new Error(`block ${cid} claims ${blockLength} bytes`)
      const parts = await reader.take(blockLength)
      // Hashed here, on the event loop: WebCrypto's digest (run on libuv's thread pool)
      // cost the event loop several times more per block than hashing it (profiled).
      if (!matchesCid(cid, parts)) throw new Error(`block ${cid} does not match its CID`)
      expected.delete(key)
      try {
        await store.put(cid, parts.length === 1 ? parts[0] : parts)
      } catch (error) {
        writeError = { error }
        throw error
      }
      result.blocks++
      result.bytes += blockLength
      // Only raw leaves are large; a node with links is small enough to join for parsing.
      const links = cid.code === raw.code ? [] : linksOf(cid, parts.length === 1 ? parts[0] : Buffer.concat(parts))
      try {
        for (const link of links) {
          const linkKey = keyOf(link)
          if (seen.addKey(linkKey)) expected.add(linkKey)
        }
      } catch (error) {
        // Our own disk (the set's file) failing is no fault of the peer's either.
        writeError = { error }
        throw error
      }
      clearTimeout(timer)
      timer = setTimeout(() => { stall.abort() }, options.timeoutMs)
    }
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason
    stream?.abort(error as Error)
  } finally {
    clearTimeout(timer)
    reader?.release()
    await seen.close()
  }
  // Our own disk failing is no fault of the peer's: it stops the fetch.
  if (writeError !== undefined) throw (writeError as { error: unknown }).error
  await flushBlocks(blocks)
  result.complete = expected.size === 0 && result.blocks > 0
  return result
}

/** Whether `parts`, in order, hash to the sha2-256 digest `cid` names (the only hash dataset CIDs use). */
function matchesCid (cid: CID, parts: Uint8Array[]): boolean {
  if (cid.multihash.code !== sha256.code) return false
  const digest = createHash('sha256')
  for (const part of parts) digest.update(part)
  return equals(digest.digest(), cid.multihash.digest)
}
