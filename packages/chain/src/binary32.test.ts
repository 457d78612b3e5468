import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, type Address } from 'viem'
import { expf, logf, ops, referenceContext, wordBytes, Tensor } from '@commons/engine'
import { binary32HarnessAbi, binary32HarnessBytecode, type Clients } from './index.ts'
import { deployForTest, type DeployedForTest } from './testing.ts'

/**
 * The Solidity binary32 library against JavaScript's binary32 arithmetic
 * (Math.fround of the double result, exact for + − × ÷ √), 100,000 generated cases
 * per operation, edge cases first. NaN results must be the canonical 0x7fc00000.
 */

const CASES = 100_000
const CHUNK = 1000

const bits = new Uint32Array(1)
const float = new Float32Array(bits.buffer)
const toFloat = (b: number): number => { bits[0] = b; return float[0] }
const toBits = (x: number): number => { float[0] = x; return bits[0] }

/** A small deterministic generator (xorshift32), so a failure can be replayed. */
function generator (seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13; s >>>= 0
    s ^= s >>> 17
    s ^= s << 5; s >>>= 0
    return s
  }
}

const SPECIALS = [
  0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001,
  0x00000001, 0x80000001, 0x007fffff, 0x00800000, 0x00800001, 0x7f7fffff, 0xff7fffff, 0x3f7fffff, 0x3f800001,
  0x33800000, 0x34000000, 0x4b000000, 0x4b800000, 0x40000000, 0x3fc00000, 0x00400000, 0x00000003
]

/** Operand pairs: every special against every special, then random values of several kinds. */
function operands (seed: number): Array<[number, number]> {
  const next = generator(seed)
  const pairs: Array<[number, number]> = []
  for (const a of SPECIALS) for (const b of SPECIALS) pairs.push([a, b])
  const draw = (kind: number): number => {
    const r = next()
    switch (kind) {
      case 0: return r // any bit pattern (NaNs, infinities, subnormals included)
      case 1: return (r & 0x807fffff) | ((1 + (next() % 4)) << 23) // tiny normals near the subnormal edge
      case 2: return r & 0x80ffffff // subnormals and the first normals
      case 3: return (r & 0x807fffff) | ((120 + (next() % 16)) << 23) // everyday magnitudes
      case 4: return (r & 0x807fffff) | ((250 + (next() % 4)) << 23) // near overflow
      default: return SPECIALS[r % SPECIALS.length]
    }
  }
  while (pairs.length < CASES) {
    const kind = next() % 6
    const a = draw(kind)
    // Often put b close to a (cancellation, ties) or a few binades away.
    const mode = next() % 4
    if (kind === 3 && next() % 2 === 0) {
      // The working range of exp and log: moderate magnitudes of either sign.
      pairs.push([((next() & 0x807fffff) | ((100 + (next() % 34)) << 23)) >>> 0, 0])
      continue
    }
    const b = mode === 0 ? (a + (next() % 5) - 2) >>> 0 : mode === 1 ? (a ^ 0x80000000) >>> 0 : mode === 2 ? (a + ((next() % 60) << 23)) >>> 0 : draw(next() % 6)
    pairs.push([a >>> 0, b >>> 0])
  }
  return pairs
}

const f = Math.fround
const OPS: Array<{ name: string, code: number, js: (a: number, b: number) => number | boolean, chunk?: number }> = [
  { name: 'add', code: 0, js: (a, b) => f(a + b) },
  { name: 'sub', code: 1, js: (a, b) => f(a - b) },
  { name: 'mul', code: 2, js: (a, b) => f(a * b) },
  { name: 'div', code: 3, js: (a, b) => f(a / b) },
  { name: 'max', code: 4, js: (a, b) => (a !== a || b !== b) ? NaN : (a > b || (a === b && !(Object.is(a, -0) && Object.is(b, 0))) ? a : b) },
  { name: 'min', code: 5, js: (a, b) => (a !== a || b !== b) ? NaN : (a < b || (a === b && !(Object.is(a, 0) && Object.is(b, -0))) ? a : b) },
  { name: 'sqrt', code: 6, js: a => f(Math.sqrt(a)) },
  { name: 'ge', code: 7, js: (a, b) => a >= b },
  { name: 'exp (engine sequence)', code: 8, js: a => expf(a), chunk: 250 },
  { name: 'log (engine sequence)', code: 9, js: a => logf(a), chunk: 250 }
]

let contract: DeployedForTest
let clients: Clients
let harness: Address
before(async () => {
  contract = await deployForTest(binary32HarnessAbi, binary32HarnessBytecode)
  clients = contract.clients
  harness = contract.address
})
after(async () => { await contract?.stop() })

describe('Binary32 (Solidity) against JavaScript binary32, bit for bit', () => {
  it('dot products: the matmul element program, against the engine\'s matmul', async () => {
    const next = generator(0xd07)
    for (const n of [1, 2, 7, 128, 344, 2048]) {
      const a = Array.from({ length: n }, () => ((next() & 0x807fffff) | ((110 + (next() % 30)) << 23)) >>> 0)
      const b = Array.from({ length: n }, () => ((next() & 0x807fffff) | ((110 + (next() % 30)) << 23)) >>> 0)
      const expected = ops.referenceMatmul(referenceContext(), new Tensor([1, n], Float32Array.from(a, toFloat)), new Tensor([n, 1], Float32Array.from(b, toFloat))).f32[0]
      const got = await clients.public.readContract({ address: harness, abi: binary32HarnessAbi, functionName: 'dot', args: [bytesToHex(wordBytes(a)), bytesToHex(wordBytes(b))] })
      assert.equal(got, toBits(expected), `dot of ${n} terms`)
    }
  })

  for (const op of OPS) {
    it(`${op.name}: ${CASES.toLocaleString('en')} cases`, async () => {
      const pairs = operands(0x5eed + op.code)
      let checked = 0
      const size = op.chunk ?? CHUNK // an eth_call has 30M gas
      for (let at = 0; at < pairs.length; at += size) {
        const chunk = pairs.slice(at, at + size)
        const got = await clients.public.readContract({
          address: harness, abi: binary32HarnessAbi, functionName: 'evaluate',
          args: [op.code, chunk.map(p => p[0]), chunk.map(p => p[1])]
        })
        chunk.forEach(([a, b], i) => {
          const expected = op.js(toFloat(a), toFloat(b))
          const want = typeof expected === 'boolean' ? (expected ? 1 : 0) : Number.isNaN(expected) ? 0x7fc00000 : toBits(expected)
          if (got[i] !== want) {
            assert.fail(`${op.name}(0x${a.toString(16)}, 0x${b.toString(16)}) = 0x${got[i].toString(16)}, expected 0x${want.toString(16)}`)
          }
          checked++
        })
      }
      assert.equal(checked, CASES)
    })
  }
})
