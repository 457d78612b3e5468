import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import * as raw from 'multiformats/codecs/raw'
import type { CID } from 'multiformats/cid'
import { getVerifiedBlock, type BlockReader } from './blocks.ts'
import { NotAFileError } from './errors.ts'

/**
 * The bytes of a stored UnixFS file, in order, every block hash-checked before any
 * of its bytes are yielded. Blocks are read one at a time, depth first: a damaged
 * block fails the read at that point and nothing after it is produced.
 */
export async function * readFileContent (blocks: BlockReader, cid: CID): AsyncGenerator<Uint8Array> {
  const bytes = await getVerifiedBlock(blocks, cid)
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
  for (const link of node.Links) yield * readFileContent(blocks, link.Hash)
}

/** The whole content of a stored file. */
export async function readFileBytes (blocks: BlockReader, cid: CID): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of readFileContent(blocks, cid)) parts.push(part)
  return Buffer.concat(parts)
}
