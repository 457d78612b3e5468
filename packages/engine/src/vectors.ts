import { expf, f32Bits, f32FromBits, logf } from './numerics.ts'
import { openingStruct, proveLeaves, wordBytes } from './proofs.ts'
import { toHex, tensorRoot } from './commit.ts'
import { random32 } from './prng.ts'
import { Tensor } from './tensor.ts'
import { encodeFunctionData, parseAbi, type Hex } from 'viem'
import { openingsFor } from './elements.ts'
import { binaryProgram } from './ops.ts'
import { OPCODE, opInputs, opStruct, traceStep, wordOf, type ElementContext, type ProgramOp } from './program.ts'
import type { Recipe } from './recipe.ts'
import { initialState, stateSlots, trainStep } from './train.ts'
import { referenceContext } from './context.ts'

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

/** The recipe of the op vectors: recipes/tiny.json cut to one layer and two sequences. */
export const VECTOR_RECIPE: Recipe = {
  name: 'vectors',
  model: { kind: 'transformer', vocab: 256, dModel: 32, layers: 1, heads: 2, hidden: 86, context: 32, tiedEmbeddings: false, normEps: 1e-5, ropeTheta: 10000 },
  tokenizer: 'byte',
  optimizer: { lr: 0.01, minLr: 0.001, warmupSteps: 10, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01, gradClip: 1 },
  batchSize: 2,
  steps: 20,
  seed: 1,
  checkpointInterval: 10
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
    'merkle.json': JSON.stringify(merkle, null, 1) + '\n',
    'ops.json': opsJson(opVectors(VECTOR_RECIPE))
  }
}

// ---------------------------------------------------------------- step program ops

const EVALUATE_ABI = parseAbi([
  'struct OpInput { uint8 kind; uint32 index; bytes32 root; }',
  'struct Op { uint8 code; uint8 dtype; uint32[] dims; OpInput[] inputs; uint32[] attrs; }',
  'struct Opening { uint256 length; uint8 dtype; uint256 firstLeaf; bytes words; bytes32[] siblings; }',
  'struct Context { uint64 seed; uint32 step; }',
  'function evaluate(Op op, uint256 element, Context ctx, bytes32[] inputRoots, Opening[] openings) view returns (uint32)'
])

/** Calldata of StepVerifier.evaluate for element e of op with the given inputs. */
export function evaluateCalldata (op: ProgramOp, constantRoots: readonly Hex[], e: number, ctx: ElementContext, inputs: readonly Tensor[]): Hex {
  return encodeFunctionData({
    abi: EVALUATE_ABI,
    functionName: 'evaluate',
    args: [opStruct(op, constantRoots), BigInt(e), { seed: BigInt(ctx.seed), step: ctx.step }, inputs.map(t => toHex(tensorRoot(t))), openingsFor(op, e, ctx, inputs).map(openingStruct)]
  })
}

/** The cases, with their codes and expected words also as flat arrays (for forge's JSON reader). */
function opsJson (cases: OpVector[]): string {
  return JSON.stringify({ codes: cases.map(c => c.code), expected: cases.map(c => c.expected), cases }, null, 1) + '\n'
}

/** Token ids 0..255 from the PRNG: a stand-in dataset the vectors can rebuild anywhere. */
function vectorTokens (): Int32Array {
  return Int32Array.from({ length: 300 }, (_, i) => random32(5, 7, i) % 256)
}

export interface OpVector {
  code: number
  op: number
  element: number
  call: Hex
  expected: number
}

/**
 * Cases for every opcode: elements (first, last, one in between) of the first two ops
 * of each code in a traced step of a one-layer tiny transformer, the init ops, and
 * small made-up ops for codes the models do not use (MAX, CMPGE).
 */
export function opVectors (recipe: Recipe): OpVector[] {
  const tokens = new Tensor([300], vectorTokens())
  const state = initialState(recipe)
  const engine = referenceContext()
  trainStep(engine, recipe, tokens.i32, state)
  const ctx = { seed: recipe.seed, step: state.step }
  const trace = traceStep(engine, recipe, tokens.i32, state)
  const { program, outputs } = trace
  const cases: OpVector[] = []
  const add = (op: ProgramOp, index: number, inputs: Tensor[], output: Tensor, constantRoots: readonly Hex[], opCtx = ctx): void => {
    const picks = [...new Set([0, output.size - 1, random32(11, op.code, index) % output.size])]
    for (const e of picks) {
      cases.push({ code: op.code, op: index, element: e, call: evaluateCalldata(op, constantRoots, e, opCtx, inputs), expected: wordOf(output.data[e], op.dtype) })
    }
  }
  const seen = new Map<number, number>()
  program.step.forEach((op, i) => {
    const count = seen.get(op.code) ?? 0
    if (count >= 2) return
    seen.set(op.code, count + 1)
    const inputs = opInputs(op, trace, tokens)
    add(op, i, inputs, outputs[i], program.constantRoots)
  })
  const s0 = stateSlots(initialState(recipe))
  program.init.slice(0, 2).forEach((op, i) => add(op, i, [], s0[i], [], { seed: recipe.seed, step: 0 }))
  // MAX and CMPGE with a broadcast second operand, over edge values.
  const a = new Tensor([2, 4], Float32Array.of(0, -0, 1, NaN, -Infinity, 3.5, -2, 1e-40))
  const b = new Tensor([4], Float32Array.of(-0, 0, NaN, 1))
  const made = [a, b].map(t => toHex(tensorRoot(t)))
  for (const [code, name] of [[OPCODE.MAX, 'max'], [OPCODE.CMPGE, 'cmpge']] as const) {
    const op: ProgramOp = { code, dtype: 'f32', dims: [2, 4], inputs: [{ kind: 'const', index: 0 }, { kind: 'const', index: 1 }], attrs: [4, 1, 0, 1] }
    const out = new Tensor([2, 4], Float32Array.from({ length: 8 }, (_, e) => binaryProgram[name](a.f32[e], b.f32[e % 4])))
    for (let e = 0; e < 8; e++) cases.push({ code, op: -1, element: e, call: evaluateCalldata(op, made, e, ctx, [a, b]), expected: wordOf(out.f32[e], 'f32') })
  }
  return cases
}
