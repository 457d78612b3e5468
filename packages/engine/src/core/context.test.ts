import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openBackend } from '../backends/backend.ts'
import { toHex, tensorRoots } from '@commons/protocol'
import { referenceContext, withRecorder, type EngineContext, type RecordedOp } from './context.ts'
import * as ops from './ops.ts'
import { traceStep, type StepTrace } from '../train/program.ts'
import { readRecipe } from '../model/recipe.ts'
import { Tensor } from './tensor.ts'
import { initialState, trainStep } from '../train/train.ts'

const repo = fileURLToPath(new URL('../../../../', import.meta.url))
const corpus = Int32Array.from(await readFile(join(repo, 'packages/engine/fixtures/corpus.txt')))
const tiny = await readRecipe(join(repo, 'recipes/tiny.json'))
const recipe = { ...tiny, model: { ...tiny.model, layers: 1 }, batchSize: 2 }

function traceAt (ctx: EngineContext, step: number): StepTrace {
  const state = initialState(recipe)
  while (state.step < step) trainStep(ctx, recipe, corpus, state)
  return traceStep(ctx, recipe, corpus, state)
}

const summary = (trace: StepTrace): string[] => [trace.program.hash, ...tensorRoots(trace.outputs).map(toHex)]

/** The same context, but every `every`-th allocation first runs `other`: a step that yields mid-way. */
function yielding (ctx: EngineContext, every: number, other: () => void): EngineContext {
  let count = 0
  return {
    ...ctx,
    allocator: {
      f32: (n, overwritten) => {
        if (++count % every === 0) other()
        return ctx.allocator.f32(n, overwritten)
      },
      startStep: () => { ctx.allocator.startStep() }
    }
  }
}

describe('engine contexts', () => {
  it('two contexts interleaved op by op in one process each get their own results and recording', async () => {
    const alone = { a: summary(traceAt(referenceContext(), 2)), b: summary(traceAt(referenceContext(), 1)) }
    // Two fast backends, each with its own arena that every step frees (startStep). Steps
    // of B run between the ops of a traced step of A, as they would if a step awaited its
    // kernels: with one arena, kernels and recorder for the process, B's steps would free
    // A's live outputs and A's recorder would see B's ops.
    const [a, b] = [openBackend('wasm', 1), openBackend('wasm', 1)]
    try {
      const seenByB: string[][] = []
      const ctxA = yielding(a.ctx, 50, () => { seenByB.push(summary(traceAt(b.ctx, 1))) })
      const traced = summary(traceAt(ctxA, 2))
      assert.ok(seenByB.length >= 5, `B ran ${seenByB.length} steps inside A's`)
      assert.deepEqual(traced, alone.a, 'A traces the same program and outputs as when alone')
      seenByB.forEach((trace, i) => { assert.deepEqual(trace, alone.b, `B's step ${i} is the same as when alone`) })
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('an op reports to the recorder of its own context only', () => {
    const heard: Record<'a' | 'b', RecordedOp[]> = { a: [], b: [] }
    const a = withRecorder(referenceContext(), op => { heard.a.push(op) })
    const b = withRecorder(referenceContext(), op => { heard.b.push(op) })
    const x = Tensor.from([2, 2], [1, 2, 3, 4])
    ops.matmul(a, x, x, false, true)
    ops.binary(b, 'add', x, x)
    ops.reduce(referenceContext(), 'sum', x, 0)
    assert.deepEqual(heard, { a: [{ op: 'matmul', transA: false, transB: true }], b: [{ op: 'binary', kind: 'add' }] })
  })
})
