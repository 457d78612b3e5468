import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { getVerifiedBlock, type BlockReader } from '@commons/store'
import { StorageProofError, StorageProofTooLargeError } from './errors.ts'

/**
 * The most gas one transaction may use since Osaka (EIP-7825: 2^24). A storage proof is
 * one transaction, so an honest provider can prove a deal only if every proof a seed can
 * draw stays under it, whatever the block gas limit.
 */
export const TX_GAS_CAP = 16_777_216

/** The largest proof any seed can draw from a version's tree, and what it may cost. */
export interface StorageProofBound {
  /** Bytes of the dag-pb nodes on the path and of its leaf. */
  bytes: number
  /** Of which the leaf. */
  leafBytes: number
  /** dag-pb nodes on the path, and their links (the contract reads each link up to twice). */
  depth: number
  links: number
  /** What `prove` can cost at most (EIP-7623 calldata floor, or calldata and execution). */
  gas: number
}

/** A path down a tree: its blocks' sizes, root first, the leaf last. */
interface Path { bytes: number, leafBytes: number, links: number, blocks: number[] }

const words = (n: number): number => Math.ceil(n / 32)

/**
 * An upper bound on a proof's gas, from its blocks' sizes: the transaction pays its
 * calldata floor (EIP-7623: 10 gas a token, 4 tokens a non-zero byte, every byte counted
 * as non-zero here) or its calldata at 16 gas a byte plus execution, whichever is more.
 * Execution is bounded by 80 k gas for the rest of `prove` (the payment, the slot's
 * update, the event), a sha256 per block (60 + 12 a word), the memory the blocks are
 * copied to (never freed inside the call) and 3,000 gas a link of a node on the path
 * (measured: ~2,100 on small nodes, up to ~2,650 through a 67-link node of a text
 * file, both passes of the walk); `storageProofBound.test.ts` holds it
 * above measured gas, on proofs where the floor and where execution sets the price.
 */
export function proofGasBound (path: Pick<Path, 'links' | 'blocks'>): number {
  const abi = 4 + 5 * 32 + 32 + path.blocks.reduce((sum, n) => sum + 64 + 32 * words(n), 0)
  const memoryWords = path.blocks.reduce((sum, n) => sum + words(n) + 4, 0)
  const execution = 80_000 + path.blocks.reduce((sum, n) => sum + 60 + 12 * words(n) + 1_000, 0) +
    3 * memoryWords + Math.ceil(memoryWords * memoryWords / 512) + 3_000 * path.links
  return 21_000 + Math.max(40 * abi, 16 * abi + execution)
}

export interface BoundOptions {
  /**
   * Reads every leaf for its size instead of trusting its link's Tsize, which the
   * dataset's author wrote: what a provider that holds the blocks does before it stakes.
   */
  readLeaves?: boolean
}

/**
 * Walks every dag-pb node of a version's tree (its leaves only with `readLeaves`: a raw
 * link's Tsize is the leaf's size) for the path a challenge can draw whose bound is highest, taking at
 * each node the child whose own path bounds highest (the bound grows with every byte and
 * link, so this is the heaviest path). Links with Tsize 0 are never drawn. A node shared
 * by several paths is read once.
 */
export async function storageProofBound (blocks: BlockReader, tree: CID, options: BoundOptions = {}): Promise<StorageProofBound> {
  const seen = new Map<string, Path>()
  const heaviest = async (cid: CID): Promise<Path> => {
    const key = cid.toString()
    const known = seen.get(key)
    if (known !== undefined) return known
    const bytes = await getVerifiedBlock(blocks, cid)
    const links = dagPb.decode(bytes).Links
    let below: Path = { bytes: 0, leafBytes: 0, links: 0, blocks: [0] }
    for (const link of links) {
      const size = link.Tsize ?? 0
      if (size === 0) continue
      let child: Path
      if (link.Hash.code === raw.code) {
        const leaf = options.readLeaves === true ? (await getVerifiedBlock(blocks, link.Hash)).length : size
        child = { bytes: leaf, leafBytes: leaf, links: 0, blocks: [leaf] }
      }
      else if (link.Hash.code === dagPb.code) child = await heaviest(link.Hash)
      else throw new StorageProofError(`block ${link.Hash} under ${cid} is neither dag-pb nor raw`, { details: { cid: link.Hash.toString() } })
      if (proofGasBound(child) > proofGasBound(below)) below = child
    }
    const path = { bytes: bytes.length + below.bytes, leafBytes: below.leafBytes, links: below.links + links.length, blocks: [bytes.length, ...below.blocks] }
    seen.set(key, path)
    return path
  }
  const worst = await heaviest(tree)
  return { bytes: worst.bytes, leafBytes: worst.leafBytes, depth: worst.blocks.length - 1, links: worst.links, gas: proofGasBound(worst) }
}

/**
 * Refuses a version some challenge of which no transaction could answer: a provider that
 * holds every byte would still be slashed. Throws `StorageProofTooLargeError`.
 */
export async function checkStorageProvable (blocks: BlockReader, tree: CID, maxGas = TX_GAS_CAP, options: BoundOptions = {}): Promise<StorageProofBound> {
  const bound = await storageProofBound(blocks, tree, options)
  if (bound.gas > maxGas) {
    throw new StorageProofTooLargeError(`a challenge of this version can draw a proof of ${bound.bytes} bytes (${bound.depth} nodes, a ${bound.leafBytes}-byte leaf): up to ${bound.gas} gas, over the ${maxGas} a transaction may use`, {
      hint: 'split the widest directory into subdirectories (its node is on every path below it) and commit again; docs/storage.md says what a proof costs',
      details: { tree: tree.toString(), ...bound, maxGas }
    })
  }
  return bound
}
