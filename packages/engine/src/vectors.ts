import { expf, f32Bits, f32FromBits, logf } from './numerics.ts'
import { proveLeaves, wordBytes } from './proofs.ts'
import { toHex, tensorRoot } from './commit.ts'
import { random32 } from './prng.ts'
import { Tensor } from './tensor.ts'

/**
 * Shared test vectors: the contract between the engine and the chain (DESIGN §5).
 * Every value here is computed by the engine; the Solidity tests check the same
 * vectors (contracts/test/Vectors.t.sol).
 */

const CASES = 512
const f = Math.fround

const SPECIALS = [0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x00000001, 0x80000001,
  0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x3f7fffff, 0x3f800001, 0x33800000, 0x4b000000, 0x40000000]

function operand (i: number, salt: number): number {
  if (i < SPECIALS.length * SPECIALS.length) return salt === 1 ? SPECIALS[i % SPECIALS.length] : SPECIALS[Math.floor(i / SPECIALS.length)]
  const r = random32(20261122, salt, i)
  switch (i % 4) {
    case 0: return r
    case 1: return ((r & 0x807fffff) | ((100 + (r >>> 24) % 40) << 23)) >>> 0
    case 2: return (r & 0x80ffffff) >>> 0
    default: return ((r & 0x807fffff) | ((1 + (r >>> 24) % 253) << 23)) >>> 0
  }
}

const bits = (x: number): number => Number.isNaN(x) ? 0x7fc00000 : f32Bits(x)

const OPS: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => f(a + b),
  sub: (a, b) => f(a - b),
  mul: (a, b) => f(a * b),
  div: (a, b) => f(a / b),
  sqrt: a => f(Math.sqrt(a)),
  exp: a => expf(a),
  log: a => logf(a)
}

export function buildVectors (): Record<string, string> {
  const binary32: Record<string, { a: number[], b: number[], out: number[] }> = {}
  Object.entries(OPS).forEach(([name, op], k) => {
    const a = Array.from({ length: CASES }, (_, i) => operand(i, 1 + 2 * k))
    const b = Array.from({ length: CASES }, (_, i) => operand(i, 2 + 2 * k))
    binary32[name] = { a, b, out: a.map((x, i) => bits(op(f32FromBits(x), f32FromBits(b[i])))) }
  })

  const tensor = new Tensor([1000], Float32Array.from({ length: 1000 }, (_, i) => i % 97 === 5 ? NaN : f((random32(7, 9, i) / 2 ** 32 - 0.5) * 10)))
  const proofs = [[0, 0], [5, 5], [10, 25], [100, 124], [0, 124]].map(([first, last]) => {
    const p = proveLeaves(tensor, first, last)
    return { firstLeaf: p.firstLeaf, words: toHex(wordBytes(p.words)), siblings: p.siblings.map(toHex) }
  })
  const merkle = { length: tensor.size, dtype: 0, root: toHex(tensorRoot(tensor)), proofs }

  return {
    'binary32.json': JSON.stringify(binary32) + '\n',
    'merkle.json': JSON.stringify(merkle, null, 1) + '\n'
  }
}
