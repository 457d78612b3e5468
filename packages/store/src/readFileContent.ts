import { exporter } from 'ipfs-unixfs-exporter'
import type { CID } from 'multiformats/cid'
import { verifyingReader, type BlockReader } from './blocks.ts'

/** The bytes of a stored file, streamed, every block hash-checked. */
export async function * readFileContent (blocks: BlockReader, cid: CID): AsyncGenerator<Uint8Array> {
  const entry = await exporter(cid, verifyingReader(blocks))
  if (entry.type === 'directory' || entry.type === 'object') throw new Error(`${cid} is not a file`)
  yield * entry.content()
}

/** The whole content of a stored file. */
export async function readFileBytes (blocks: BlockReader, cid: CID): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of readFileContent(blocks, cid)) parts.push(part)
  return Buffer.concat(parts)
}
