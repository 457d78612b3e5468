import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import * as raw from 'multiformats/codecs/raw'
import type { CID } from 'multiformats/cid'
import { getVerifiedBlock, type BlockReader } from './blocks.ts'
import { NotAFileError } from './errors.ts'
import { readerOf } from './walkDag.ts'

/**
 * The bytes of a stored UnixFS file, in order, every block hash-checked before any
 * of its bytes are yielded. A node's children are read `readAhead` at a time, one window
 * ahead of the one consumed (from a pack store, a window of neighbouring chunks is one
 * read), but consumed in order: a damaged block fails the read at that point and
 * nothing after it is produced.
 */
export async function * readFileContent (blocks: BlockReader, cid: CID, readAhead = 64): AsyncGenerator<Uint8Array> {
  yield * readNode(readerOf(blocks, true), cid, await getVerifiedBlock(blocks, cid), readAhead)
}

async function * readNode (read: ReturnType<typeof readerOf>, cid: CID, bytes: Uint8Array, readAhead: number): AsyncGenerator<Uint8Array> {
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
  const startWindow = (from: number): void => {
    const window = links.slice(from, from + readAhead).map(link => link.Hash)
    read(window).forEach((pending, i) => {
      pending.catch(() => {}) // awaited below, in order; never an unhandled rejection
      reads[from + i] = pending
    })
  }
  if (links.length > 0) startWindow(0)
  for (let i = 0; i < links.length; i++) {
    if (i % readAhead === 0 && i + readAhead < links.length) startWindow(i + readAhead)
    const child = await (reads[i] as Promise<Uint8Array>)
    reads[i] = undefined // held no longer than needed
    yield * readNode(read, links[i].Hash, child, readAhead)
  }
}

/** The whole content of a stored file. */
export async function readFileBytes (blocks: BlockReader, cid: CID): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of readFileContent(blocks, cid)) parts.push(part)
  return Buffer.concat(parts)
}
