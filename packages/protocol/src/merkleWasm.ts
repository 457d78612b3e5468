import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { BaseError } from '@commons/errors'
import type { TensorData } from './words.ts'

export class KernelsMissingError extends BaseError {
  override name = 'KernelsMissingError'
}

interface MerkleExports {
  memory: WebAssembly.Memory
  tensorMerkleRoot(data: number, n: number, isF32: number, scratch: number, empties: number, out: number): void
  nodeRoot(nodes: number, count: number, empties: number, out: number): void
}

const PATH = fileURLToPath(new URL('../build/merkle.wasm', import.meta.url))
const BASE = 65536 // first free page: the module's own data lives below
let instance: MerkleExports | null = null

function merkle (): MerkleExports {
  if (instance !== null) return instance
  let bytes: Buffer
  try {
    bytes = readFileSync(PATH)
  } catch (cause) {
    throw new KernelsMissingError(`the WebAssembly kernels are not built (${PATH})`, { hint: 'run npm run build', cause })
  }
  instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(bytes)), {}).exports as unknown as MerkleExports
  return instance
}

function ensure (m: MerkleExports, bytes: number): void {
  const need = BASE + bytes
  const have = m.memory.buffer.byteLength
  if (need > have) m.memory.grow(Math.ceil((need - have) / 65536))
}

/**
 * Merkle root (before the length and dtype are mixed in) of a tensor's elements,
 * computed in WebAssembly; identical to nodeRoot(leafHashes(t)) of commit.ts.
 */
export function tensorMerkleRootWasm (tensor: TensorData, empties: Uint8Array[]): Uint8Array {
  const m = merkle()
  const n = tensor.data.length
  const leaves = Math.ceil(n / 8)
  const emptiesAt = BASE
  const dataAt = emptiesAt + empties.length * 32
  const scratchAt = dataAt + n * 4
  const outAt = scratchAt + (leaves + 1) * 32
  ensure(m, outAt + 32 - BASE)
  const heap = new Uint8Array(m.memory.buffer)
  empties.forEach((e, i) => heap.set(e, emptiesAt + i * 32))
  heap.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, n * 4), dataAt)
  m.tensorMerkleRoot(dataAt, n, tensor.dtype === 'f32' ? 1 : 0, scratchAt, emptiesAt, outAt)
  return heap.slice(outAt, outAt + 32)
}
