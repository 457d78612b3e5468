import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import * as raw from 'multiformats/codecs/raw'
import { CID } from 'multiformats/cid'
import { getStoredBlock, getVerifiedBlock, type BlockReader } from './blocks.ts'
import { CorruptBlockError, VersionNotFoundError } from './errors.ts'

export interface DagWalk {
  /** Blocks read and found intact. */
  blocks: number
  /** Their total size in bytes (each block counted once). */
  bytes: number
  corrupt: CID[]
  missing: CID[]
}

/**
 * A CID as a short flat string for the sets of CIDs seen: its bytes, one char each
 * (the pack store keys its pending blocks by multihash alone: multihashKey).
 * (cid.toString() builds base32 a character at a time, and a walk of a few GB keeps
 * hundreds of thousands of them: measured, the walk of a 2 GB version did not fit in
 * 200 MB of heap with those keys.)
 */
export function keyOf (cid: CID): string {
  return Buffer.from(cid.bytes.buffer, cid.bytes.byteOffset, cid.bytes.byteLength).toString('latin1')
}

/** The CIDs a block links to, for the codecs a dataset uses. */
export function linksOf (cid: CID, bytes: Uint8Array): CID[] {
  if (cid.code === raw.code) return []
  if (cid.code === dagPb.code) return dagPb.decode(bytes).Links.map(link => link.Hash)
  if (cid.code === dagCbor.code) {
    const links: CID[] = []
    const collect = (value: unknown): void => {
      const link = CID.asCID(value)
      if (link !== null) links.push(link)
      else if (Array.isArray(value)) value.forEach(collect)
      else if (value !== null && typeof value === 'object') Object.values(value).forEach(collect)
    }
    collect(dagCbor.decode(bytes))
    return links
  }
  return []
}

/**
 * Reads every block reachable from `roots` once, re-hashing each; a damaged or
 * missing block is recorded, not thrown, so one walk reports all of them.
 */
export async function walkDag (blocks: BlockReader, roots: CID[]): Promise<DagWalk> {
  const result: DagWalk = { blocks: 0, bytes: 0, corrupt: [], missing: [] }
  const seen = new Set<string>()
  const stack = [...roots]
  while (stack.length > 0) {
    const cid = stack.pop() as CID
    const key = keyOf(cid)
    if (seen.has(key)) continue
    seen.add(key)
    let bytes: Uint8Array
    try {
      bytes = await getVerifiedBlock(blocks, cid)
    } catch (error) {
      if (error instanceof CorruptBlockError) { result.corrupt.push(cid); continue }
      if (error instanceof VersionNotFoundError) { result.missing.push(cid); continue }
      throw error
    }
    result.blocks++
    result.bytes += bytes.length
    stack.push(...linksOf(cid, bytes))
  }
  return result
}

export interface DagBlocksOptions {
  /** Blocks read ahead of the one handed out (default 16). */
  readAhead?: number
  /**
   * Hash-check each block (default true). Off only where whoever reads the blocks
   * checks them anyway (a DAG served to a peer, which hashes every block it receives).
   */
  verify?: boolean
}

/**
 * The blocks under `root`, depth first in link order (the order a CAR of the DAG and a
 * streaming reader want), each once and hash-checked; a missing or damaged block
 * throws. The next `readAhead` blocks to visit are read while the caller handles the
 * current one (a blockstore on disk answers each read in a file open's time), so memory
 * holds at most that many blocks, plus the CIDs seen and the links still to visit.
 */
export async function * dagBlocks (blocks: BlockReader, root: CID, options: DagBlocksOptions = {}): AsyncGenerator<{ cid: CID, bytes: Uint8Array }> {
  const readAhead = options.readAhead ?? 16
  const get = options.verify === false ? getStoredBlock : getVerifiedBlock
  const seen = new Set<string>([keyOf(root)])
  const stack = [root]
  const reading = new Map<string, Promise<Uint8Array>>()
  const read = (cid: CID): Promise<Uint8Array> => {
    const key = keyOf(cid)
    let pending = reading.get(key)
    if (pending === undefined) {
      pending = get(blocks, cid)
      pending.catch(() => {}) // handled where it is awaited; read ahead, it may never be
      reading.set(key, pending)
    }
    return pending
  }
  while (stack.length > 0) {
    const cid = stack.pop() as CID
    const bytes = await read(cid)
    reading.delete(keyOf(cid))
    for (const link of linksOf(cid, bytes).reverse()) {
      const key = keyOf(link)
      if (seen.has(key)) continue
      seen.add(key)
      stack.push(link)
    }
    // The top of the stack is what is visited next.
    for (const next of stack.slice(-readAhead)) read(next)
    yield { cid, bytes }
  }
}
