import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import * as raw from 'multiformats/codecs/raw'
import type { CID } from 'multiformats/cid'
import { getVerifiedBlock, type BlockReader } from './blocks.ts'
import { NotAFileError } from './errors.ts'
import { readerOf } from './walkDag.ts'

/**
 * The bytes of a stored UnixFS file, in order, every block hash-checked before any
 * of its bytes are yielded. Chunks are read ahead, `readAhead` at most held at once over
 * the whole tree (however deep), a node's next chunks together (from a pack store,
 * neighbouring chunks are one read), but consumed in order: a damaged block fails the
 * read at that point and nothing after it is produced.
 */
export async function * readFileContent (blocks: BlockReader, cid: CID, readAhead = 128): AsyncGenerator<Uint8Array> {
  const reading: Reading = { read: readerOf(blocks, true), limit: Math.max(1, readAhead), held: 0 }
  yield * readNode(reading, cid, await getVerifiedBlock(blocks, cid))
}

/** Reads shared by every level of one file's tree: blocks read and not yet consumed are `held`, at most `limit` ahead. */
interface Reading {
  read: ReturnType<typeof readerOf>
  limit: number
  held: number
}

/** Nodes above the chunks read ahead of the one being read (each a few KB). */
const NODES_AHEAD = 4

async function * readNode (reading: Reading, cid: CID, bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  if (cid.code === raw.code) {
    yield bytes
    return
  }
  const node = cid.code === dagPb.code ? dagPb.decode(bytes) : undefined
  const unixfs = node?.Data !== undefined ? UnixFS.unmarshal(node.Data) : undefined
  if (node === undefined || unixfs === undefined || (unixfs.type !== 'file' && unixfs.type !== 'raw')) {
    throw new NotAFileError(`${cid} is not a file`, { details: { cid: cid.toString() } })
  }
  if (unixfs.data !== undefined && unixfs.data.length > 0) yield unixfs.data
  const links = node.Links
  const reads: Array<Promise<Uint8Array> | undefined> = []
  /** The child being read, and the first child whose read has not begun. */
  let i = 0
  let next = 0
  // The next children the window has room for (at least the one needed now), half a
  // window at a time. Nodes above the chunks are read NODES_AHEAD ahead only, so the room
  // goes to the chunks consumed next, not to nodes whose chunks come much later.
  const chunks = links.length > 0 && links[0].Hash.code === raw.code
  const batch = chunks ? reading.limit / 2 : 1
  const readMore = (needed: boolean): void => {
    const room = Math.min(chunks ? Infinity : NODES_AHEAD - (next - i), reading.limit - reading.held)
    const count = Math.min(links.length - next, Math.max(needed ? 1 : 0, room))
    if (count <= 0 || (!needed && count < batch)) return
    reading.held += count
    reading.read(links.slice(next, next + count).map(link => link.Hash)).forEach((pending, i) => {
      pending.catch(() => {}) // awaited below, in order; never an unhandled rejection
      reads[next + i] = pending
    })
    next += count
  }
  for (; i < links.length; i++) {
    if (i >= next) readMore(true)
    let child: Uint8Array
    try {
      child = await (reads[i] as Promise<Uint8Array>)
    } finally {
      reads[i] = undefined // held no longer than needed
      reading.held--
    }
    readMore(false)
    yield * readNode(reading, links[i].Hash, child)
  }
}

/** The whole content of a stored file. */
export async function readFileBytes (blocks: BlockReader, cid: CID): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of readFileContent(blocks, cid)) parts.push(part)
  return Buffer.concat(parts)
}
