import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import * as Digest from 'multiformats/hashes/digest'
import { getVerifiedBlock, readVersion, type BlockReader } from '@commons/store'
import { bytesToHex, type Hex } from 'viem'
import { StorageProofError } from './errors.ts'

/** What `StorageMarket.prove` takes: the dag-pb path from the tree root, and the leaf. */
export interface StorageProof {
  nodes: Uint8Array[]
  leaf: Uint8Array
  /** The byte offset in the tree the seed drew. */
  offset: bigint
  /** The leaf's CID (the block the challenge asked for). */
  leafCid: CID
}

/**
 * Builds the proof a seed asks for from a blockstore: the walk of StorageProofs.sol, by
 * cumulative Tsize, from the version's tree root down to one raw leaf. Throws
 * `VersionNotFoundError` when a block on the path is missing (the provider cannot prove).
 */
export async function buildStorageProof (blocks: BlockReader, tree: CID, seed: bigint): Promise<StorageProof> {
  const nodes: Uint8Array[] = []
  let cid = tree
  let at = seed
  let offset = 0n
  for (;;) {
    const bytes = await getVerifiedBlock(blocks, cid)
    if (cid.code === raw.code) return { nodes, leaf: bytes, offset, leafCid: cid }
    if (cid.code !== dagPb.code) {
      throw new StorageProofError(`block ${cid} on the path is neither dag-pb nor raw`, { details: { cid: cid.toString() } })
    }
    nodes.push(bytes)
    const links = dagPb.decode(bytes).Links
    const total = links.reduce((sum, link) => sum + BigInt(link.Tsize ?? 0), 0n)
    if (total === 0n) return { nodes, leaf: new Uint8Array(0), offset, leafCid: cid }
    at %= total
    if (nodes.length === 1) offset = at
    let start = 0n
    const link = links.find(l => {
      const size = BigInt(l.Tsize ?? 0)
      if (at < start + size) return true
      start += size
      return false
    })
    if (link === undefined) throw new StorageProofError(`no link of ${cid} holds offset ${at}`, { details: { cid: cid.toString() } })
    at -= start
    cid = link.Hash
  }
}

/** The dag-cbor bytes of a version (what `createDeal` parses) and its tree root. */
export async function readVersionBlock (blocks: BlockReader, version: CID): Promise<{ commit: Uint8Array, tree: CID }> {
  const { tree } = await readVersion(blocks, version)
  return { commit: await getVerifiedBlock(blocks, version), tree }
}

/** The 32-byte sha256 digest a CID names, as the contracts store it. */
export function cidDigest (cid: CID): Hex {
  if (cid.multihash.code !== sha256.code) {
    throw new StorageProofError(`${cid} is not a sha256 CID`, { details: { cid: cid.toString() } })
  }
  return bytesToHex(cid.multihash.digest)
}

/** The CIDs behind the digests a deal stores: its version (dag-cbor) and tree (dag-pb). */
export function dealCids (version: Hex, tree: Hex): { version: CID, tree: CID } {
  const of = (code: number, hex: Hex): CID => CID.createV1(code, Digest.create(sha256.code, Buffer.from(hex.slice(2), 'hex')))
  return { version: of(dagCbor.code, version), tree: of(dagPb.code, tree) }
}
