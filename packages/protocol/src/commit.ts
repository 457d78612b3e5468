import { keccak_256 as keccak } from '@noble/hashes/sha3'
import type { Hex } from 'viem'
import { hexBytes, toHex } from './hex.ts'
import { tensorMerkleRootWasm } from './merkleWasm.ts'
import { CANONICAL_NAN, wordOf, type TensorData } from './words.ts'

/**
 * Commitments of docs/design.md §5, keccak256 throughout:
 *   leaf   = keccak(0x00 ‖ 8 elements as big-endian 32-bit patterns, last leaf zero-padded)
 *   node   = keccak(0x01 ‖ left ‖ right); an odd node is paired with EMPTY[level]
 *   EMPTY[0] = keccak(0x02), EMPTY[h+1] = keccak(0x01 ‖ EMPTY[h] ‖ EMPTY[h])
 *   tensor = keccak(merkleRoot ‖ uint256 length ‖ uint8 dtype)        (f32 = 0, i32 = 1)
 *   state  = keccak(nodeRoot(tensor roots of the slots, in order) ‖ uint256 step)
 *   record = keccak(0x03 ‖ state ‖ uint32 loss bits)
 *   transcript = keccak(nodeRoot(records) ‖ uint256 count)
 * NaN is committed as 0x7fc00000 whatever its payload, so backends cannot disagree
 * on it.
 */

export type Hash = Uint8Array

export const ELEMENTS_PER_LEAF = 8

export const EMPTY: Hash[] = (() => {
  const chain = [keccak(Uint8Array.of(2))]
  for (let h = 0; h < 64; h++) chain.push(hashPair(chain[h], chain[h]))
  return chain
})()

export function hashPair (left: Hash, right: Hash): Hash {
  const buf = new Uint8Array(65)
  buf[0] = 1
  buf.set(left, 1)
  buf.set(right, 33)
  return keccak(buf)
}

/** The level above `level`, at `height`: its nodes paired, an odd last one with EMPTY[height]. */
export function parentLevel (level: Hash[], height: number): Hash[] {
  const next: Hash[] = []
  for (let i = 0; i < level.length; i += 2) next.push(hashPair(level[i], level[i + 1] ?? EMPTY[height]))
  return next
}

/** The root over a level of nodes, padding odd levels with the empty chain. */
export function nodeRoot (nodes: Hash[]): Hash {
  if (nodes.length === 0) return EMPTY[0]
  let level = nodes
  for (let height = 0; level.length > 1; height++) level = parentLevel(level, height)
  return level[0]
}

/** Every level of the tree nodeRoot hashes, bottom up: `nodes` first, the root's level last. */
export function nodeLevels (nodes: Hash[]): Hash[][] {
  const levels = [nodes]
  for (let height = 0; levels[height].length > 1; height++) levels.push(parentLevel(levels[height], height))
  return levels
}

/**
 * The siblings that prove `nodes[index]` under nodeRoot(nodes), bottom level up. Where
 * the node is the last of an odd level its partner is EMPTY[level], which the verifier
 * knows, so no sibling is sent for that level.
 */
export function nodeProof (nodes: Hash[], index: number): Hash[] {
  if (index < 0 || index >= nodes.length) throw new RangeError(`node ${index} is outside a level of ${nodes.length}`)
  const siblings: Hash[] = []
  let level = nodes
  for (let at = index, height = 0; level.length > 1; at >>= 1, height++) {
    const partner = at ^ 1
    if (partner < level.length) siblings.push(level[partner])
    level = parentLevel(level, height)
  }
  return siblings
}

/** The root nodeProof's siblings imply for `leaf` at `index` of `count` nodes. */
export function rootFromNodeProof (leaf: Hash, index: number, count: number, siblings: Hash[]): Hash {
  let node = leaf
  let at = index
  let size = count
  let used = 0
  for (let height = 0; size > 1; height++) {
    const partner = at ^ 1
    const other = partner < size ? siblings[used++] : EMPTY[height]
    if (other === undefined) throw new RangeError('the proof lacks a sibling')
    node = at % 2 === 0 ? hashPair(node, other) : hashPair(other, node)
    at >>= 1
    size = Math.ceil(size / 2)
  }
  if (used !== siblings.length) throw new RangeError('the proof has siblings left over')
  return node
}

/** The big-endian bit patterns of a tensor's elements, NaN canonical. */
export function elementBytes (tensor: TensorData): Uint8Array {
  const data = tensor.data
  const n = data.length
  const out = new Uint8Array(n * 4)
  const view = new DataView(out.buffer)
  if (tensor.dtype === 'i32') {
    for (let i = 0; i < n; i++) view.setInt32(i * 4, data[i], false)
  } else {
    for (let i = 0; i < n; i++) {
      const x = data[i]
      if (x !== x) view.setUint32(i * 4, CANONICAL_NAN, false)
      else view.setFloat32(i * 4, x, false)
    }
  }
  return out
}

/** Leaf hashes of a tensor: one per 8 elements. */
export function leafHashes (tensor: TensorData): Hash[] {
  const bytes = elementBytes(tensor)
  const leaves: Hash[] = []
  const buf = new Uint8Array(33)
  for (let at = 0; at < bytes.length; at += 32) {
    buf.fill(0)
    buf[0] = 0
    buf.set(bytes.subarray(at, Math.min(at + 32, bytes.length)), 1)
    leaves.push(keccak(buf))
  }
  return leaves
}

function uint256 (n: number | bigint): Uint8Array {
  const out = new Uint8Array(32)
  let v = BigInt(n)
  for (let i = 31; i >= 0 && v > 0n; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

/** The tensor root by the plain definition above, hash by hash (the reference). */
export function referenceTensorRoot (tensor: TensorData): Hash {
  return finishTensorRoot(nodeRoot(leafHashes(tensor)), tensor)
}

const EMPTY_BYTES = (() => {
  const bytes = new Uint8Array(EMPTY.length * 32)
  EMPTY.forEach((hash, i) => bytes.set(hash, i * 32))
  return bytes
})()

/**
 * A faster hasher of tensor Merkle trees (the engine's native kernels: eight keccak
 * states at a time on two threads), which must give the reference's bytes.
 */
export interface MerkleKernel {
  /** The Merkle root of a tensor's elements, odd levels padded from `empties`. */
  tensorMerkleRoot(elements: Float32Array | Int32Array, empties: Uint8Array, threads: number): Uint8Array
  /** The Merkle roots of many tensors at once, 32 bytes each. */
  tensorMerkleRoots(tensors: Array<Float32Array | Int32Array>, empties: Uint8Array, threads: number): Uint8Array
}

let merkleKernel: () => MerkleKernel | null = () => null

/** Hashes tensor trees with the kernel `kernel()` returns (null: WebAssembly). */
export function useMerkleKernel (kernel: () => MerkleKernel | null): void {
  merkleKernel = kernel
}

/**
 * The tensor root, its Merkle tree hashed by the kernel of useMerkleKernel where there
 * is one, else in WebAssembly: the same bytes as the reference either way.
 */
export function tensorRoot (tensor: TensorData): Hash {
  return finishTensorRoot(tensorMerkleRoot(tensor), tensor)
}

/**
 * The Merkle root of a tensor's elements alone (no length, no dtype): for a run of
 * 8 * 2^k elements it is the node at height k over them, which lets a long tensor's
 * root be built piece by piece (store's tokens root of a stream).
 */
export function tensorMerkleRoot (tensor: TensorData): Hash {
  const native = merkleKernel()
  return native !== null ? native.tensorMerkleRoot(tensor.data, EMPTY_BYTES, 2) : tensorMerkleRootWasm(tensor, EMPTY)
}

function finishTensorRoot (merkleRoot: Hash, tensor: TensorData): Hash {
  return finishRoot(merkleRoot, tensor.data.length, tensor.dtype)
}

/** A tensor root from its Merkle root, element count and dtype (f32 = 0, i32 = 1). */
export function finishRoot (merkleRoot: Hash, length: number, dtype: TensorData['dtype']): Hash {
  const buf = new Uint8Array(65)
  buf.set(merkleRoot, 0)
  buf.set(uint256(length), 32)
  buf[64] = dtype === 'f32' ? 0 : 1
  return keccak(buf)
}

/** The tensor roots of many tensors (natively in one call where the kernels are built). */
export function tensorRoots (tensors: readonly TensorData[]): Hash[] {
  const native = merkleKernel()
  if (native === null) return tensors.map(tensorRoot)
  const merkle = native.tensorMerkleRoots(tensors.map(t => t.data), EMPTY_BYTES, 2)
  return tensors.map((t, i) => finishTensorRoot(merkle.subarray(32 * i, 32 * i + 32), t))
}

/** The root over many tensors' roots, in order: a state's slots, or a step's op outputs (its trace). */
export function tensorsRoot (tensors: readonly TensorData[]): Hash {
  return nodeRoot(tensorRoots(tensors))
}

export function stateRoot (slots: readonly TensorData[], step: number): Hash {
  const buf = new Uint8Array(64)
  buf.set(tensorsRoot(slots), 0)
  buf.set(uint256(step), 32)
  return keccak(buf)
}

export function recordHash (state: Hash, loss: number): Hash {
  const buf = new Uint8Array(37)
  buf[0] = 3
  buf.set(state, 1)
  new DataView(buf.buffer).setUint32(33, wordOf(loss, 'f32'), false)
  return keccak(buf)
}

export function transcriptRoot (records: Hash[]): Hash {
  const buf = new Uint8Array(64)
  buf.set(nodeRoot(records), 0)
  buf.set(uint256(records.length), 32)
  return keccak(buf)
}

/** A transcript record as runs store it: the state root after the step, and the step's loss. */
export interface TranscriptRecord {
  state: Hex
  loss: number
}

/** The hash of every record of a transcript, in order (docs/design.md §5). */
export function recordHashes (records: readonly TranscriptRecord[]): Hash[] {
  return records.map(r => recordHash(hexBytes(r.state), r.loss))
}

/** The transcript root of a run's records: what a trainer submits and everyone checks. */
export function transcriptRootOf (records: readonly TranscriptRecord[]): Hex {
  return toHex(transcriptRoot(recordHashes(records)))
}
