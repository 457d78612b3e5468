import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import * as raw from 'multiformats/codecs/raw'
import type { CID } from 'multiformats/cid'
import { getVerifiedBlock, type BlockReader } from './blocks.ts'
import { NotAFileError } from './errors.ts'

/**
 * The bytes of a stored UnixFS file, in order, every block hash-checked before any
 * of its bytes are yielded. Children are read a few blocks ahead, in parallel, but
 * consumed in order: a damaged block fails the read at that point and nothing after
 * it is produced.
 */
export async function * readFileContent (blocks: BlockReader, cid: CID, readAhead = 16): AsyncGenerator<Uint8Array> {
  yield * readNode(blocks, cid, await getVerifiedBlock(blocks, cid), readAhead)
}

async function * readNode (blocks: BlockReader, cid: CID, bytes: Uint8Array, readAhead: number): AsyncGenerator<Uint8Array> {
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
  const reads: Array<Promise<Uint8Array>> = []
  const startRead = (i: number): void => {
    reads[i] = getVerifiedBlock(blocks, links[i].Hash)
    reads[i].catch(() => {}) // awaited below, in order; never an unhandled rejection
  }
  for (let i = 0; i < Math.min(readAhead, links.length); i++) startRead(i)
  for (let i = 0; i < links.length; i++) {
    const child = await reads[i]
    if (i + readAhead < links.length) startRead(i + readAhead)
    yield * readNode(blocks, links[i].Hash, child, readAhead)
  }
}

/** The whole content of a stored file. */
export async function readFileBytes (blocks: BlockReader, cid: CID): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of readFileContent(blocks, cid)) parts.push(part)
  return Buffer.concat(parts)
}
