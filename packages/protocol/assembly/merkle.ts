// Merkle commitments of docs/design.md §5 in WebAssembly: the same bytes as src/commit.ts,
// without a call per hash. Memory layout is the caller's: it passes pointers.
import { keccakF } from './keccakF'

const STATE = memory.data(200)
const RATE = 136

@inline function startState (): void {
  memory.fill(STATE, 0, 200)
}

@inline function finish (length: usize, out: usize): void {
  // keccak256 padding: 0x01 after the message, 0x80 in the last byte of the rate.
  store<u8>(STATE + length, load<u8>(STATE + length) ^ 0x01)
  store<u8>(STATE + RATE - 1, load<u8>(STATE + RATE - 1) ^ 0x80)
  keccakF(STATE)
  memory.copy(out, STATE, 32)
}

/**
 * Leaf hashes of n 32-bit elements at `data` (little-endian in memory):
 * keccak(0x00 ‖ 8 elements big-endian, zero-padded), NaN as 0x7fc00000 when isF32.
 */
export function hashLeaves (data: usize, n: i32, isF32: bool, out: usize): i32 {
  const leaves = (n + 7) >> 3
  for (let l = 0; l < leaves; l++) {
    startState()
    for (let e = 0; e < 8; e++) {
      const index = (l << 3) + e
      if (index >= n) break
      let bits = load<u32>(data + (<usize>index << 2))
      if (isF32 && (bits & 0x7fffffff) > 0x7f800000) bits = 0x7fc00000
      store<u32>(STATE + 1 + (<usize>e << 2), bswap<u32>(bits))
    }
    finish(33, out + (<usize>l << 5))
  }
  return leaves
}

/** keccak(0x01 ‖ left ‖ right) for `count` consecutive pairs at `input`; out may equal input. */
export function hashPairs (input: usize, count: i32, out: usize): void {
  for (let p = 0; p < count; p++) {
    startState()
    store<u8>(STATE, 1)
    memory.copy(STATE + 1, input + (<usize>p << 6), 64)
    finish(65, out + (<usize>p << 5))
  }
}

/**
 * Root over `count` nodes at `nodes` (overwritten), odd levels padded from the chain
 * of empty hashes at `empties` (32 bytes each, level by level). Writes it to `out`.
 */
export function nodeRoot (nodes: usize, count: i32, empties: usize, out: usize): void {
  if (count == 0) {
    memory.copy(out, empties, 32)
    return
  }
  let height = 0
  while (count > 1) {
    if (count & 1) {
      memory.copy(nodes + (<usize>count << 5), empties + (<usize>height << 5), 32)
      count++
    }
    hashPairs(nodes, count >> 1, nodes)
    count >>= 1
    height++
  }
  memory.copy(out, nodes, 32)
}

/** Merkle root of a tensor's elements: leaves into `scratch`, then up to the root. */
export function tensorMerkleRoot (data: usize, n: i32, isF32: bool, scratch: usize, empties: usize, out: usize): void {
  const leaves = hashLeaves(data, n, isF32, scratch)
  nodeRoot(scratch, leaves, empties, out)
}
