import { EMPTY, hashPair, tensorMerkleRoot, type Hash } from './commit.ts'
import { ProofError, type RangeProof } from './proofs.ts'
import { wordOf, tensorData } from './words.ts'

/**
 * Range proofs over an i32 tensor that is not held in memory (a stored token stream,
 * read by windows): the same RangeProof as proveLeaves gives for the whole tensor,
 * each sibling hashed from the window of tokens under it. Memory is bounded by one
 * piece of 8 * 2^17 elements; time by hashing the stream once (every token outside
 * the proved range is under exactly one sibling), or one piece where the windows keep
 * the nodes over whole pieces (pieceNode).
 */

/** What the prover reads: the tensor's length and windows of it (an Int32Array is one). */
export interface ElementWindows {
  readonly length: number
  subarray (begin: number, end: number): Int32Array
  /**
   * The node at WINDOW_PIECE_HEIGHT over whole piece `index` (elements [index, index + 1)
   * x 8 x 2^17), where it was kept when the tensor was written; undefined: hash it. A
   * stored token stream keeps them, so a proof hashes one piece, not the stream.
   */
  pieceNode? (index: number): Uint8Array | undefined
}

/** Leaves hashed at once by the Merkle kernel: 2^17 leaves of 8 elements (4 MiB of i32). */
export const WINDOW_PIECE_HEIGHT = 17

const leafCount = (length: number): number => Math.ceil(length / 8)

/**
 * The node at `height` over leaves [index * 2^height, (index + 1) * 2^height) of the
 * tree over `tensor`'s leaves. At the right edge the leaves run out early: the node is
 * then the one the plain tree builds, each odd node paired with the empty chain.
 */
export function windowNode (tensor: ElementWindows, height: number, index: number, pieceHeight = WINDOW_PIECE_HEIGHT): Hash {
  const leaves = leafCount(tensor.length)
  const first = index * 2 ** height
  if (first >= leaves) return EMPTY[height]
  const whole = (first + 2 ** height) * 8 <= tensor.length
  if (height === WINDOW_PIECE_HEIGHT && whole && tensor.pieceNode !== undefined) {
    const kept = tensor.pieceNode(index)
    if (kept !== undefined) return kept
  }
  if (height > pieceHeight) {
    return hashPair(windowNode(tensor, height - 1, 2 * index, pieceHeight), windowNode(tensor, height - 1, 2 * index + 1, pieceHeight))
  }
  const slice = tensor.subarray(first * 8, Math.min((first + 2 ** height) * 8, tensor.length))
  // A short run's own tree stands at the height of its leaf count; above that, it is the last node of an odd level.
  let node = tensorMerkleRoot(tensorData(slice))
  for (let h = Math.ceil(Math.log2(leafCount(slice.length))); h < height; h++) node = hashPair(node, EMPTY[h])
  return node
}

/** Proves leaves [firstLeaf, lastLeaf] of an i32 tensor read by windows (proveLeaves' proof, bit for bit). */
export function proveWindowLeaves (tensor: ElementWindows, firstLeaf: number, lastLeaf: number, pieceHeight = WINDOW_PIECE_HEIGHT): RangeProof {
  const leaves = leafCount(tensor.length)
  if (firstLeaf < 0 || lastLeaf < firstLeaf || lastLeaf >= leaves) {
    throw new ProofError(`leaves ${firstLeaf}..${lastLeaf} are outside a tensor of ${leaves} leaves`, { details: { firstLeaf, lastLeaf, leaves } })
  }
  const siblings: Hash[] = []
  let size = leaves
  let lo = firstLeaf
  let hi = lastLeaf
  for (let height = 0; size > 1; height++) {
    if (lo % 2 === 1) siblings.push(windowNode(tensor, height, lo - 1, pieceHeight))
    if (hi % 2 === 0 && hi + 1 < size) siblings.push(windowNode(tensor, height, hi + 1, pieceHeight))
    size = Math.ceil(size / 2)
    lo = Math.floor(lo / 2)
    hi = Math.floor(hi / 2)
  }
  const values = tensor.subarray(firstLeaf * 8, Math.min((lastLeaf + 1) * 8, tensor.length))
  const words: number[] = []
  for (let i = 0; i < (lastLeaf - firstLeaf + 1) * 8; i++) words.push(i < values.length ? wordOf(values[i], 'i32') : 0)
  return { length: tensor.length, dtype: 'i32', firstLeaf, words, siblings }
}

/** Proves elements [first, last] of an i32 tensor read by windows (the leaves that hold them). */
export function proveWindowElements (tensor: ElementWindows, first: number, last = first, pieceHeight = WINDOW_PIECE_HEIGHT): RangeProof {
  return proveWindowLeaves(tensor, Math.floor(first / 8), Math.floor(last / 8), pieceHeight)
}
