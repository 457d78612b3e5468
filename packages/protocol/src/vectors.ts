import { encodeFunctionData, parseAbi, type Hex } from 'viem'
import { tensorRoot } from './commit.ts'
import { openingsFor } from './elements.ts'
import { opStruct } from './encoding.ts'
import { toHex } from './hex.ts'
import { expf, f, f32FromBits, logf } from './numerics.ts'
import type { ElementContext, ProgramOp } from './program.ts'
import { random32 } from './prng.ts'
import { openingStruct, proveLeaves } from './proofs.ts'
import { tensorData, wordBytes, wordOf, type TensorData } from './words.ts'

/**
 * Shared test vectors: the contract between TypeScript and the chain (docs/design.md §5).
 * The Solidity tests check the same vectors (contracts/test/Vectors.t.sol). This
 * file makes the binary32 and Merkle vectors; the engine adds the op vectors of a
 * traced training step (engine/src/train/vectors.ts).
 */

const CASES = 512

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

const OPS: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => f(a + b),
  sub: (a, b) => f(a - b),
  mul: (a, b) => f(a * b),
  div: (a, b) => f(a / b),
  sqrt: a => f(Math.sqrt(a)),
  exp: a => expf(a),
  log: a => logf(a)
}

/** vectors/binary32.json and vectors/merkle.json, as their files hold them. */
export function protocolVectors (): Record<string, string> {
  const binary32: Record<string, { a: number[], b: number[], out: number[] }> = {}
  Object.entries(OPS).forEach(([name, op], k) => {
    const a = Array.from({ length: CASES }, (_, i) => operand(i, 1 + 2 * k))
    const b = Array.from({ length: CASES }, (_, i) => operand(i, 2 + 2 * k))
    binary32[name] = { a, b, out: a.map((x, i) => wordOf(op(f32FromBits(x), f32FromBits(b[i])), 'f32')) }
  })

  const tensor = tensorData(Float32Array.from({ length: 1000 }, (_, i) => i % 97 === 5 ? NaN : f((random32(7, 9, i) / 2 ** 32 - 0.5) * 10)))
  const proofs = [[0, 0], [5, 5], [10, 25], [100, 124], [0, 124]].map(([first, last]) => {
    const p = proveLeaves(tensor, first, last)
    return { firstLeaf: p.firstLeaf, words: toHex(wordBytes(p.words)), siblings: p.siblings.map(toHex) }
  })
  const merkle = { length: tensor.data.length, dtype: 0, root: toHex(tensorRoot(tensor)), proofs }

  return {
    'binary32.json': JSON.stringify(binary32) + '\n',
    'merkle.json': JSON.stringify(merkle, null, 1) + '\n'
  }
}

const EVALUATE_ABI = parseAbi([
  'struct OpInput { uint8 kind; uint32 index; bytes32 root; }',
  'struct Op { uint8 code; uint8 dtype; uint32[] dims; OpInput[] inputs; uint32[] attrs; }',
  'struct Opening { uint256 length; uint8 dtype; uint256 firstLeaf; bytes words; bytes32[] siblings; }',
  'struct Context { uint64 seed; uint32 step; }',
  'function evaluate(Op op, uint256 element, Context ctx, bytes32[] inputRoots, Opening[] openings) view returns (uint32)'
])

/** Calldata of StepVerifier.evaluate for element e of op with the given inputs. */
export function evaluateCalldata (op: ProgramOp, constantRoots: readonly Hex[], e: number, ctx: ElementContext, inputs: readonly TensorData[]): Hex {
  return encodeFunctionData({
    abi: EVALUATE_ABI,
    functionName: 'evaluate',
    args: [opStruct(op, constantRoots), BigInt(e), { seed: BigInt(ctx.seed), step: ctx.step }, inputs.map(t => toHex(tensorRoot(t))), openingsFor(op, e, ctx, inputs).map(openingStruct)]
  })
}
