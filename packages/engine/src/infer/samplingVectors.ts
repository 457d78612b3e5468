import { evaluateCalldata, random32, wordOf } from '@commons/protocol'
import { referenceContext } from '../core/context.ts'
import { Tensor } from '../core/tensor.ts'
import { initParams } from '../model/model.ts'
import type { Recipe } from '../model/recipe.ts'
import type { OpVector } from '../train/vectors.ts'
import { forwardInputs, traceForward } from './forwardProgram.ts'
import { samplingWords } from './sample.ts'

/**
 * vectors/sampling.json: calls of the forward verifier (ForwardVerifier.evaluate, the
 * calldata of StepVerifier.evaluate) for the sampling ops at the end of sampled forwards
 * of the vector recipe, under settings that cut with top-k and top-p, and the elements the
 * engine computed (contracts/test/SamplingProver.t.sol checks them).
 */
export function samplingVectors (recipe: Recipe): string {
  const ctx = referenceContext()
  // Weights three times the init's: logits spread enough that each setting cuts somewhere and some picks are not greedy.
  const weights = initParams(recipe.model, 3).map(t => new Tensor(t.shape, t.f32.map(x => x * 3)))
  const window = Array.from({ length: 12 }, (_, i) => random32(5, 8, i) % recipe.model.vocab)
  const settings = [{ temperature: 1 }, { temperature: 0.8, topK: 7 }, { temperature: 1.2, topP: 0.6 }, { temperature: 0.1, topK: 40, topP: 0.9 }]
  const cases: OpVector[] = []
  settings.forEach((options, s) => {
    const trace = traceForward(ctx, recipe, weights, window, { sampling: { seed: 100 + s, index: s, words: samplingWords(options) } })
    const { ops, constantRoots } = trace.program
    const from = ops.length - 9 // the greedy ARGMAX, then the sampling ops
    ops.slice(from).forEach((op, k) => {
      const i = from + k
      const out = trace.outputs[i]
      const inputs = forwardInputs(op, trace, weights, trace.tokens)
      for (const e of new Set([0, out.size - 1, random32(12, s, i) % out.size])) {
        cases.push({ code: op.code, op: i, element: e, call: evaluateCalldata(op, constantRoots, e, trace.context, inputs), expected: wordOf(out.data[e], op.dtype) })
      }
    })
  })
  return JSON.stringify({ codes: cases.map(c => c.code), expected: cases.map(c => c.expected), cases }, null, 1) + '\n'
}
