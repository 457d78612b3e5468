import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { evaluateFrom, OPCODE, tensorRoots, toHex, wordOf } from '@commons/protocol'
import { initialState, openBackend, readRecipe, referenceContext, stateRootOf, stateSlots, trainStep, type EngineContext, type Recipe, type TransformerConfig } from '../index.ts'
import { compileProgram, initProgram, opInputs, traceStep } from './program.ts'
import { Tensor } from '../core/tensor.ts'
import { encodeAbiParameters, keccak256 } from 'viem'

const repo = fileURLToPath(new URL('../../../../', import.meta.url))
const corpus = Int32Array.from(await readFile(join(repo, 'packages/engine/fixtures/corpus.txt')))
const tiny = await readRecipe(join(repo, 'recipes/tiny.json'))
const referenceCtx = referenceContext()

function inputsOf (trace: ReturnType<typeof traceStep>, opIndex: number): Tensor[] {
  return opInputs(trace.program.step[opIndex], trace, new Tensor([corpus.length], corpus))
}

/** A state a few steps in, so moments and the schedule are not trivial. */
function stateAt (recipe: Recipe, step: number, on: EngineContext = referenceCtx) {
  const state = initialState(recipe)
  while (state.step < step) trainStep(on, recipe, corpus, state)
  return state
}

/** The step programs checked element by element: multi-head, and grouped-query attention (4 query heads on 2 key/value heads). */
const variants: Array<[string, Recipe]> = [
  ['multi-head', { ...tiny, model: { ...tiny.model, layers: 1 }, batchSize: 2 }],
  ['grouped-query', { ...tiny, model: { ...tiny.model as TransformerConfig, layers: 1, heads: 4, kvHeads: 2 }, batchSize: 2 }]
]

describe('step program', () => {
  for (const [name, recipe] of variants) it(`is the engine's step (${name}): every element of every op of a traced step follows its element program`, () => {
    const state = stateAt(recipe, 3)
    const engine = stateAt(recipe, 4)
    const trace = traceStep(referenceCtx, recipe, corpus, state)
    assert.equal(stateRootOf(state).toString(), stateRootOf(engine).toString(), 'tracing changes nothing')
    const ctx = { seed: recipe.seed, step: 3 }
    let checked = 0
    trace.program.step.forEach((op, i) => {
      const inputs = inputsOf(trace, i)
      const out = trace.outputs[i]
      assert.deepEqual(op.dims, [...out.shape], `op ${i} shape`)
      for (let e = 0; e < out.size; e++) {
        const want = wordOf(out.data[e], op.dtype)
        const have = wordOf(evaluateFrom(op, e, ctx, inputs), op.dtype)
        if (have !== want) assert.fail(`op ${i} (code ${op.code}) element ${e}: program gives ${have.toString(16)}, engine ${want.toString(16)}`)
        checked++
      }
    })
    assert.ok(checked > 100_000, `${checked} elements checked`)
    const codes = new Set(trace.program.step.map(op => op.code))
    for (const code of [OPCODE.WINDOW, OPCODE.GATHER, OPCODE.DOT, OPCODE.ROPE, OPCODE.SCATTER, OPCODE.CLIP, OPCODE.ADAM_P, OPCODE.COPY, OPCODE.MAXR]) assert.ok(codes.has(code), `uses code ${code}`)
  })

  it('is the same for every step and every dataset, and has a stable hash', () => {
    const recipe = { ...tiny, model: { ...tiny.model, layers: 1 }, batchSize: 2 }
    const a = traceStep(referenceCtx, recipe, corpus, stateAt(recipe, 1)).program
    const b = compileProgram(referenceCtx, recipe)
    assert.equal(a.hash, b.hash)
    // The hash is keccak256 of the ABI-encoded header (docs/step-program.md), recomputed here.
    assert.match(b.hash, /^0x[0-9a-f]{64}$/)
    assert.equal(b.hash, keccak256(encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint32' }, { type: 'uint32' }, { type: 'bytes32' }, { type: 'uint32' }],
      [b.header.stepOpsRoot, b.header.stepOps, b.header.paramSlots, b.header.initOpsRoot, b.header.lossOp]
    )))
    assert.equal(b.header.stepOps, b.step.length)
    // The seed is not an op's attribute but a term of the job of its own (the PRNG reads
    // it at run time): one program serves every seed.
    assert.equal(compileProgram(referenceCtx, { ...recipe, seed: recipe.seed + 1 }).hash, b.hash, 'the seed is bound by the job, not the program')
    assert.notEqual(compileProgram(referenceCtx, { ...recipe, model: { ...recipe.model, hidden: recipe.model.hidden + 2 } }).hash, b.hash, 'the model is part of the program')
    assert.notEqual(compileProgram(referenceCtx, { ...recipe, optimizer: { ...recipe.optimizer, lr: 0.02 } }).hash, b.hash, 'the schedule is part of the program')
  })

  for (const [name, recipe] of variants) it(`traces the same on a fast backend (${name}), and its outputs outlive the next step`, async () => {
    const reference = traceStep(referenceCtx, recipe, corpus, stateAt(recipe, 2))
    const backend = openBackend('wasm', 2)
    try {
      const fast = traceStep(backend.ctx, recipe, corpus, stateAt(recipe, 2, backend.ctx))
      trainStep(backend.ctx, recipe, corpus, stateAt(recipe, 1, backend.ctx)) // reuses the backend's arena
      assert.deepEqual(tensorRoots(fast.outputs).map(toHex), tensorRoots(reference.outputs).map(toHex))
      assert.equal(fast.program.hash, reference.program.hash)
    } finally {
      await backend.close()
    }
  })

  it('ends with the next state and starts from S_0 by the init program', () => {
    const recipe = { ...tiny, model: { ...tiny.model, layers: 1 }, batchSize: 2 }
    const state = initialState(recipe)
    const init = initProgram(recipe)
    const ctx = { seed: recipe.seed, step: 0 }
    stateSlots(state).forEach((slot, s) => {
      for (let e = 0; e < slot.size; e += 7) assert.equal(wordOf(evaluateFrom(init[s], e, ctx, []), 'f32'), wordOf(slot.data[e], 'f32'))
    })
  })
})
