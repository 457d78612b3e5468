import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import * as raw from 'multiformats/codecs/raw'
import { CID } from 'multiformats/cid'
import { checkBlock, getStoredBlock, getVerifiedBlock, missingBlockError, type BlockReader } from './blocks.ts'
import { CorruptBlockError, VersionNotFoundError } from './errors.ts'
import { SeenCids, type SeenCidsOptions } from './seenCids.ts'

export interface DagWalk {
  /** Blocks read and found intact. */
  blocks: number
  /** Their total size in bytes (each block counted once). */
  bytes: number
  corrupt: CID[]
  missing: CID[]
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

export interface WalkOptions {
  /** Told the blocks and bytes found intact so far, after each block. */
  onProgress?: (blocks: number, bytes: number) => void
  /** How the set of CIDs seen is kept (in memory, then in a temporary file past millions). */
  seen?: SeenCidsOptions
}

/**
 * Reads every block reachable from `roots` once, re-hashing each; a damaged or
 * missing block is recorded, not thrown, so one walk reports all of them.
 */
export async function walkDag (blocks: BlockReader, roots: CID[], options: WalkOptions = {}): Promise<DagWalk> {
  const result: DagWalk = { blocks: 0, bytes: 0, corrupt: [], missing: [] }
  for await (const visit of visitDag(blocks, roots, { readAhead: WALK_READ_AHEAD, verify: true, seen: options.seen })) {
    if ('bytes' in visit) {
      result.blocks++
      result.bytes += visit.bytes.length
      options.onProgress?.(result.blocks, result.bytes)
    } else if (visit.error instanceof CorruptBlockError) {
      result.corrupt.push(visit.cid)
    } else if (visit.error instanceof VersionNotFoundError) {
      result.missing.push(visit.cid)
    } else {
      throw visit.error
    }
  }
  return result
}

/**
 * Blocks a walk reads ahead: the chunks of a file node or two (a node links up to 174),
 * read from a pack store a range at a time (readBlocks). One block at a time, a walk of
 * 5 GB (1.07M blocks) took 112 s.
 */
const WALK_READ_AHEAD = 256

export interface DagBlocksOptions {
  /** Blocks read ahead of the one handed out (default 256: a file node's chunks, read a range at a time from a pack store). */
  readAhead?: number
  /**
   * Hash-check each block (default true). Off only where whoever reads the blocks
   * checks them anyway (a DAG served to a peer, which hashes every block it receives).
   */
  verify?: boolean
  /** How the set of CIDs seen is kept (in memory, then in a temporary file past millions). */
  seen?: SeenCidsOptions
}

/**
 * The blocks under `root`, depth first in link order (the order a CAR of the DAG and a
 * streaming reader want), each once and hash-checked; a missing or damaged block
 * throws. The next `readAhead` blocks to visit are read while the caller handles the
 * current one (a blockstore on disk answers each read in a file open's time), so memory
 * holds at most that many blocks, plus the links still to visit and the CIDs seen
 * (moved to a temporary file past a few million: SeenCids).
 */
export async function * dagBlocks (blocks: BlockReader, root: CID, options: DagBlocksOptions = {}): AsyncGenerator<{ cid: CID, bytes: Uint8Array }> {
  for await (const visit of visitDag(blocks, [root], { readAhead: options.readAhead ?? WALK_READ_AHEAD, verify: options.verify !== false, seen: options.seen })) {
    if ('error' in visit) throw visit.error
    yield visit
  }
}

/** A block a walk visited: its bytes, or why they could not be read (then its links are not followed). */
type Visit = { cid: CID, bytes: Uint8Array } | { cid: CID, error: unknown }

/** A store that reads many blocks at once (PackBlockstore). */
interface ManyReader {
  readBlocks: (cids: CID[]) => Array<Promise<Uint8Array>>
}

/**
 * The blocks reachable from `roots`, each once, depth first in link order, the next
 * `readAhead` to visit read while the current one is handed out (in one call where
 * the store reads many at once).
 */
async function * visitDag (blocks: BlockReader, roots: CID[], options: { readAhead: number, verify: boolean, seen?: SeenCidsOptions }): AsyncGenerator<Visit> {
  // Its file, once it needs one, on the store's disk (the OS temp dir may be memory).
  const seen = SeenCids.forStore(blocks, options.seen)
  try {
    yield * visitOnce(blocks, roots, seen, options)
  } finally {
    await seen.close()
  }
}

async function * visitOnce (blocks: BlockReader, roots: CID[], seen: SeenCids, options: { readAhead: number, verify: boolean }): AsyncGenerator<Visit> {
  const readAhead = Math.max(1, options.readAhead)
  /** Blocks still to visit, the next on top, with their reads once begun. */
  const stack: Array<{ cid: CID, read?: Promise<Uint8Array> }> = []
  for (const root of [...roots].reverse()) {
    if (seen.add(root)) stack.push({ cid: root })
  }
  const readMany = readerOf(blocks, options.verify)
  /**
   * Reads begun whose blocks are not yet handed out: at most `readAhead` (plus the one
   * visited). A block read ahead and then pushed down the stack by its siblings' links
   * still counts, so memory is bounded by the window, not by the DAG's depth.
   */
  let held = 0
  const read = (entries: Array<{ cid: CID, read?: Promise<Uint8Array> }>): void => {
    if (entries.length === 0) return
    held += entries.length
    readMany(entries.map(entry => entry.cid)).forEach((pending, i) => {
      pending.catch(() => {}) // handled where it is awaited; read ahead, it may never be
      entries[i].read = pending
    })
  }
  while (stack.length > 0) {
    const entry = stack.pop() as { cid: CID, read?: Promise<Uint8Array> }
    if (entry.read === undefined) read([entry])
    const { cid } = entry
    let bytes: Uint8Array
    try {
      bytes = await (entry.read as Promise<Uint8Array>)
    } catch (error) {
      yield { cid, error }
      continue
    } finally {
      held--
    }
    let links: CID[]
    try {
      links = linksOf(cid, bytes)
    } catch (error) {
      // Bytes that match their CID but do not decode as its codec: a malformed DAG.
      yield { cid, error: new CorruptBlockError(`block ${cid} does not decode: ${(error as Error).message}`, { details: { cid: cid.toString() } }) }
      continue
    }
    for (const link of links.reverse()) {
      if (seen.add(link)) stack.push({ cid: link })
    }
    // The next blocks to visit (top of the stack) are read while the window has room,
    // a quarter of it at least at once (one read of neighbours, not one a block).
    const room = readAhead - held
    if (room > 0 && (room >= readAhead / 4 || stack.at(-1)?.read === undefined)) {
      const next: Array<{ cid: CID, read?: Promise<Uint8Array> }> = []
      for (let i = stack.length - 1; i >= Math.max(0, stack.length - readAhead) && next.length < room; i--) {
        if (stack[i].read === undefined) next.push(stack[i])
      }
      read(next)
    }
    yield { cid, bytes }
  }
}

/**
 * Reads blocks as a walk wants them: many at once where the store can (PackBlockstore's
 * readBlocks: neighbours in a pack are one read), missing ones as VersionNotFoundError,
 * hash-checked if `verify`.
 */
export function readerOf (blocks: BlockReader, verify: boolean): (cids: CID[]) => Array<Promise<Uint8Array>> {
  const check = async (cid: CID, read: Promise<Uint8Array>): Promise<Uint8Array> => {
    let bytes: Uint8Array
    try {
      bytes = await read
    } catch (error) {
      // Not indexed, or indexed in a pack file that is gone: either way its bytes are missing.
      if ((error as Error).name === 'NotFoundError' || (error as NodeJS.ErrnoException).code === 'ENOENT') throw missingBlockError(cid)
      throw error
    }
    return verify ? await checkBlock(cid, bytes) : bytes
  }
  if (typeof (blocks as Partial<ManyReader>).readBlocks === 'function') {
    const many = blocks as BlockReader & ManyReader
    return cids => many.readBlocks(cids).map(async (read, i) => await check(cids[i], read))
  }
  return cids => cids.map(async cid => verify ? await getVerifiedBlock(blocks, cid) : await getStoredBlock(blocks, cid))
}
