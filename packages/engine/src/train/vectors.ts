import type { Hex } from 'viem'
import { binaryProgram, evaluateCalldata, OPCODE, protocolVectors, random32, tensorRoot, toHex, wordOf, type ProgramOp } from '@commons/protocol'
import { opInputs, traceStep } from './program.ts'
import type { Recipe } from '../model/recipe.ts'
import { Tensor } from '../core/tensor.ts'
import { initialState, stateSlots, trainStep } from './train.ts'
import { referenceContext } from '../core/context.ts'
import { samplingVectors } from '../infer/samplingVectors.ts'

/**
 * Shared test vectors: the contract between the engine and the chain (docs/design.md §5).
 * The binary32 and Merkle vectors are the protocol's; the op vectors here come from a
 * step the engine traces. The Solidity tests check the same vectors
 * (contracts/test/Vectors.t.sol).
 */

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
  return { ...protocolVectors(), 'ops.json': opsJson(opVectors(VECTOR_RECIPE)), 'sampling.json': samplingVectors(VECTOR_RECIPE) }
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
