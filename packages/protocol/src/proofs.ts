import { keccak_256 as keccak } from '@noble/hashes/sha3'
import { BaseError } from '@commons/errors'
import { EMPTY, hashPair, leafHashes, parentLevel, type Hash } from './commit.ts'
import { toHex } from './hex.ts'
import { wordBytes, wordOf, type DType, type TensorData } from './words.ts'

export class ProofError extends BaseError {
  override name = 'ProofError'
}

/**
 * A proof that a contiguous run of leaves (8 elements each, docs/design.md §5) belongs to a
 * tensor: the leaves' element words, the sibling hashes the verifier cannot compute
 * from them, and the tensor's length and dtype (they fix the tree's shape).
 *
 * A single element is the one-leaf case; a matrix row is a run of leaves.
 */
export interface RangeProof {
  length: number
  dtype: DType
  firstLeaf: number
  /** Element bit patterns of the leaves, 8 per leaf (the last leaf zero-padded). */
  words: number[]
  /** Siblings from the bottom level up: left boundary before right at each level. */
  siblings: Hash[]
}

const leafCount = (length: number): number => Math.ceil(length / 8)

function levelSizes (leaves: number): number[] {
  const sizes = [leaves]
  while (sizes[sizes.length - 1] > 1) sizes.push(Math.ceil(sizes[sizes.length - 1] / 2))
  return sizes
}

/** Element bit patterns (big-endian order of the commitment, NaN canonical) as numbers. */
function words (tensor: TensorData, from: number, to: number): number[] {
  const out: number[] = []
  for (let i = from; i < to; i++) out.push(i < tensor.data.length ? wordOf(tensor.data[i], tensor.dtype) : 0)
  return out
}

/** Proves leaves [firstLeaf, lastLeaf] of `tensor`. */
export function proveLeaves (tensor: TensorData, firstLeaf: number, lastLeaf: number): RangeProof {
  const leaves = leafHashes(tensor)
  if (firstLeaf < 0 || lastLeaf < firstLeaf || lastLeaf >= leaves.length) {
    throw new ProofError(`leaves ${firstLeaf}..${lastLeaf} are outside a tensor of ${leaves.length} leaves`)
  }
  const siblings: Hash[] = []
  let level = leaves
  let lo = firstLeaf
  let hi = lastLeaf
  let height = 0
  while (level.length > 1) {
    if (lo % 2 === 1) siblings.push(level[lo - 1])
    if (hi % 2 === 0 && hi + 1 < level.length) siblings.push(level[hi + 1])
    level = parentLevel(level, height)
    lo = Math.floor(lo / 2)
    hi = Math.floor(hi / 2)
    height++
  }
  return { length: tensor.data.length, dtype: tensor.dtype, firstLeaf, words: words(tensor, firstLeaf * 8, (lastLeaf + 1) * 8), siblings }
}

/** Proves elements [first, last] (the leaves that hold them). */
export function proveElements (tensor: TensorData, first: number, last = first): RangeProof {
  return proveLeaves(tensor, Math.floor(first / 8), Math.floor(last / 8))
}

function leafHash (words: number[]): Hash {
  const buf = new Uint8Array(33)
  const view = new DataView(buf.buffer)
  words.forEach((w, i) => view.setUint32(1 + 4 * i, w))
  return keccak(buf)
}

function uint256 (n: number): Uint8Array {
  const out = new Uint8Array(32)
  new DataView(out.buffer).setBigUint64(24, BigInt(n))
  return out
}

/**
 * Recomputes the tensor root a proof implies (the verifier's algorithm, as the
 * Solidity one): compare it with the committed root.
 */
export function rootFromProof (proof: RangeProof): Hash {
  const count = proof.words.length / 8
  if (!Number.isInteger(count) || count < 1) throw new ProofError('a proof holds whole leaves, at least one')
  const sizes = levelSizes(leafCount(proof.length))
  let nodes: Hash[] = []
  for (let l = 0; l < count; l++) nodes.push(leafHash(proof.words.slice(8 * l, 8 * l + 8)))
  let lo = proof.firstLeaf
  let hi = lo + count - 1
  if (hi >= sizes[0]) throw new ProofError('the proof runs past the last leaf')
  // Padding is committed too: past `length`, the last leaf must be zero (one root per values).
  if (hi === sizes[0] - 1 && proof.words.slice(proof.length - 8 * lo).some(w => w !== 0)) {
    throw new ProofError('the last leaf has non-zero padding past the tensor\'s length')
  }
  let next = 0
  const take = (): Hash => {
    const s = proof.siblings[next++]
    if (s === undefined) throw new ProofError('the proof lacks a sibling')
    return s
  }
  for (let height = 0; height < sizes.length - 1; height++) {
    const row: Hash[] = []
    if (lo % 2 === 1) row.push(take())
    row.push(...nodes)
    if (hi % 2 === 0) row.push(hi + 1 < sizes[height] ? take() : EMPTY[height])
    nodes = []
    for (let i = 0; i < row.length; i += 2) nodes.push(hashPair(row[i], row[i + 1]))
    lo = Math.floor(lo / 2)
    hi = Math.floor(hi / 2)
  }
  if (next !== proof.siblings.length) throw new ProofError('the proof has siblings left over')
  const buf = new Uint8Array(65)
  buf.set(nodes[0], 0)
  buf.set(uint256(proof.length), 32)
  buf[64] = proof.dtype === 'f32' ? 0 : 1
  return keccak(buf)
}

/** A range proof as the Solidity struct StepOps.Opening (an empty one for null). */
export function openingStruct (proof: RangeProof | null) {
  if (proof === null) return { length: 0n, dtype: 0, firstLeaf: 0n, words: '0x' as const, siblings: [] }
  return { length: BigInt(proof.length), dtype: proof.dtype === 'f32' ? 0 : 1, firstLeaf: BigInt(proof.firstLeaf), words: toHex(wordBytes(proof.words)), siblings: proof.siblings.map(toHex) }
}
