import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import * as raw from 'multiformats/codecs/raw'
import { CID } from 'multiformats/cid'
import { getVerifiedBlock, type BlockReader } from './blocks.ts'
import { CorruptBlockError, VersionNotFoundError } from './errors.ts'

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
    const key = cid.toString()
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
