import { backward, constant, param } from '../core/autograd.ts'
import { PURPOSE, random32, stateRoot, type Hash } from '@commons/protocol'
import '../backends/nativeMerkle.ts'
import { forward, initParams, loss, makeTables, oneHot, paramSpecs, type ModelConfig, type Tables } from '../model/model.ts'
import { crossEntropy } from '../core/nn.ts'
import { adamStep, adamUpdate, clipScale } from './optim.ts'
import type { Recipe } from '../model/recipe.ts'
import { Tensor, ShapeError } from '../core/tensor.ts'
import { checkBase } from './baseWeights.ts'
import { record, recordOp, startStep, type EngineContext } from '../core/context.ts'

/** Everything training changes: parameters and AdamW moments, after `step` updates. */
export interface TrainState {
  step: number
  params: Tensor[]
  m: Tensor[]
  v: Tensor[]
}

/**
 * S_0: parameters from the PRNG, or copies of the base weights of a fine-tuning recipe
 * (`recipe.base`, loaded by the caller: baseWeights.ts); zero moments.
 */
export function initialState (recipe: Recipe, base?: readonly Tensor[]): TrainState {
  const weights = checkBase(recipe, base)
  const params = recipe.base === undefined ? initParams(recipe.model, recipe.seed) : weights.map(t => new Tensor(t.shape, Float32Array.from(t.f32)))
  return { step: 0, params, m: params.map(p => Tensor.zeros(p.shape)), v: params.map(p => Tensor.zeros(p.shape)) }
}

/** The state slots in program order: every parameter, then every first moment, then every second. */
export function stateSlots (state: TrainState): Tensor[] {
  return [...state.params, ...state.m, ...state.v]
}

/** Names of the state slots, in the same order. */
export function slotNames (model: ModelConfig): string[] {
  const names = paramSpecs(model).map(p => p.name)
  return [...names.map(n => `param/${n}`), ...names.map(n => `m/${n}`), ...names.map(n => `v/${n}`)]
}

export function stateRootOf (state: TrainState): Hash {
  return stateRoot(stateSlots(state), state.step)
}

/**
 * What a training step reads of its token stream: its length and windows of it. An
 * Int32Array is one; a stored stream read window by window (too large to hold) is
 * another. Every window is the same tokens either way, so training is bit for bit
 * the same.
 */
export interface TokenWindows {
  readonly length: number
  subarray (begin: number, end: number): Int32Array
}

/**
 * A token stream not held in memory, with what a run must know of all of it, computed
 * as it was written: its tokens root (tokensRootOf) and its smallest and largest token.
 */
export interface TokenStream extends TokenWindows {
  readonly tokensRoot: `0x${string}`
  readonly min: number
  readonly max: number
}

export interface Batch {
  inputs: Tensor
  targets: Tensor
}

/**
 * The batch of step t: sequence b starts at random32(seed, DATA, t·B + b) mod (L − W),
 * W the model's window; a transformer predicts every next token of its window, an
 * MLP the one token after it.
 */
export function sampleBatch (ctx: EngineContext, recipe: Recipe, tokens: TokenWindows, step: number): Batch {
  const window = recipe.model.context
  const b = recipe.batchSize
  const span = tokens.length - window
  if (span < 1) throw new ShapeError(`the training data has ${tokens.length} tokens; it needs more than the context of ${window}`)
  const inputs = new Int32Array(b * window)
  const perRow = recipe.model.kind === 'transformer' ? window : 1
  const targets = new Int32Array(b * perRow)
  for (let row = 0; row < b; row++) {
    const start = random32(recipe.seed, PURPOSE.DATA, step * b + row) % span
    // One read per row: inputs are its first `window` tokens, targets the same shifted by one.
    const read = tokens.subarray(start, start + window + 1)
    inputs.set(read.subarray(0, window), row * window)
    if (perRow === window) targets.set(read.subarray(1, window + 1), row * window)
    else targets[row] = read[window]
  }
  // The step program reads the batch from the tokens stream (WINDOW ops, program.ts).
  const shape = { batch: b, window }
  return {
    inputs: recordOp(ctx, { op: 'window', ...shape, width: window, offset: 0 }, [], [new Tensor([b, window], inputs)]),
    targets: recordOp(ctx, { op: 'window', ...shape, width: perRow, offset: perRow === window ? 1 : window }, [], [new Tensor([b * perRow], targets)])
  }
}

export function tablesFor (model: ModelConfig): Tables | undefined {
  return model.kind === 'transformer' ? makeTables(model) : undefined
}

/**
 * One training step, in place: loss and gradients of the batch of step t, gradient
 * clipping, AdamW. Returns the loss (before the update), which the transcript records
 * with S_t.
 */
export function trainStep (ctx: EngineContext, recipe: Recipe, tokens: TokenWindows, state: TrainState, tables = tablesFor(recipe.model)): number {
  startStep(ctx)
  const batch = sampleBatch(ctx, recipe, tokens, state.step)
  const vars = state.params.map(param)
  const l = loss(ctx, recipe.model, vars, batch.inputs, batch.targets, tables)
  record(ctx, { op: 'loss' }, [l.value], []) // the step program names the op whose output is the recorded loss
  backward(ctx, l)
  const gradients = vars.map(v => v.grad ?? Tensor.zeros(v.shape))
  record(ctx, { op: 'optimizer' }, gradients, [])
  const grads = gradients.map(g => g.f32)
  const { scale } = clipScale(recipe.optimizer, grads)
  const s = adamStep(recipe.optimizer, state.step, recipe.steps, scale)
  const specs = paramSpecs(recipe.model)
  specs.forEach((spec, i) => {
    adamUpdate(recipe.optimizer, s, spec.decay, state.params[i].f32, grads[i], state.m[i].f32, state.v[i].f32)
  })
  state.step += 1
  return l.value.f32[0]
}

/** The loss of the batch of the current step, without training (the last record's loss). */
export function evalLoss (ctx: EngineContext, recipe: Recipe, tokens: TokenWindows, state: TrainState, tables = tablesFor(recipe.model)): number {
  startStep(ctx)
  const batch = sampleBatch(ctx, recipe, tokens, state.step)
  const logits = forward(ctx, recipe.model, state.params.map(constant), batch.inputs, tables)
  return crossEntropy(ctx, logits, constant(oneHot(ctx, batch.targets.i32, recipe.model.vocab))).value.f32[0]
}
