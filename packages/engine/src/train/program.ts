import type { Hex } from 'viem'
import {
  BINARY_OPCODE, f, f32Bits, f32FromBits, MAX_INPUTS, OPCODE, ProgramError, programHash, programHeader, sqrtf, tensorRoot, toHex,
  UNARY_OPCODE, type Opcode, type ProgramHeader, type ProgramOp, type Ref
} from '@commons/protocol'
import { paramSpecs } from '../model/model.ts'
import { adamStep, adamUpdate, clipScale } from './optim.ts'
import { withRecorder, type EngineContext, type OpRecorder, type RecordedOp } from '../core/context.ts'
import * as ops from '../core/ops.ts'
import type { Recipe } from '../model/recipe.ts'
import { Tensor, strides } from '../core/tensor.ts'
import { initialState, stateSlots, tablesFor, trainStep, type TokenWindows, type TrainState } from './train.ts'
import { checkBase } from './baseWeights.ts'
import '../backends/nativeMerkle.ts'

/**
 * The step program compiler (docs/step-program.md; the program's vocabulary and
 * encoding are @commons/protocol's). The program is compiled by recording the engine's
 * own step (a recorder on the engine context) and lowering each engine op into program ops; the outputs
 * of the recorded step are the op trace. A test checks every element of every op of a
 * traced step against its element program, so the program is what the engine computes.
 */

export interface Program {
  step: ProgramOp[]
  init: ProgramOp[]
  paramSlots: number
  /** Program constants (tables, scalars, the schedule), referenced by index. */
  constants: Tensor[]
  constantRoots: Hex[]
  header: ProgramHeader
  hash: Hex
}

// ---------------------------------------------------------------- lowering

const TOKENS: Ref = { kind: 'tokens', index: 0 }

/** Strides of `from` read at every index of `to` (numpy broadcasting: 0 where broadcast). */
function broadcastStrides (from: readonly number[], to: readonly number[]): number[] {
  const s = strides(from)
  const offset = to.length - from.length
  return to.map((_, d) => d < offset || from[d - offset] === 1 ? 0 : s[d - offset])
}

/** Axes that swap the last two. */
function lastTwoSwapped (rank: number): number[] {
  const axes = [...Array(rank).keys()]
  ;[axes[rank - 2], axes[rank - 1]] = [axes[rank - 1], axes[rank - 2]]
  return axes
}

/**
 * Builds the program ops of one step while the engine runs it. Inputs are matched to
 * refs by the identity of their data arrays (a reshape shares its source's array);
 * an array nothing produced is a program constant.
 */
export class StepBuilder {
  readonly ops: ProgramOp[] = []
  readonly outputs: Tensor[] = []
  readonly constants: Tensor[] = []
  /** The root of each constant, kept from the lookup that found it distinct (not hashed again). */
  readonly constantRoots: Hex[] = []
  private readonly constantIndex = new Map<string, number>()
  private readonly refs = new Map<ArrayLike<number>, Ref>()
  /** Runs the ops that lowering computes, recording nothing: they are not engine ops of the step. */
  private readonly ctx: EngineContext
  private readonly recipe: Recipe
  private readonly slots: Tensor[]
  private readonly step: number
  private readonly fault: Fault | undefined
  /** The op whose output is the step's loss (the engine's 'loss' mark). */
  lossOp = -1

  constructor (ctx: EngineContext, recipe: Recipe, slots: Tensor[], step: number, fault?: Fault) {
    this.ctx = withRecorder(ctx, null)
    this.recipe = recipe
    this.slots = slots
    this.step = step
    this.fault = fault
    slots.forEach((t, index) => this.refs.set(t.data, { kind: 'slot', index }))
  }

  /** Makes `t` (by its data array) read as `ref`: the forward program's window is its tokens input. */
  bind (t: Tensor, ref: Ref): void {
    this.refs.set(t.data, ref)
  }

  /** The recorder of the context the step runs on. */
  readonly recorder: OpRecorder = (op, inputs, outputs) => {
    this.lower(op, inputs, outputs)
  }

  ref (t: Tensor | Ref): Ref {
    if (!(t instanceof Tensor)) return t
    const known = this.refs.get(t.data)
    if (known !== undefined) return known
    return this.constant(t, true)
  }

  /** The program constant with t's values (one per distinct root); `copy` for values a backend may reuse. */
  constant (t: Tensor, copy: boolean): Ref {
    const root = toHex(tensorRoot(t))
    let index = this.constantIndex.get(root)
    if (index === undefined) {
      index = this.constants.length
      this.constants.push(copy ? new Tensor(t.shape, t.data.slice()) : t)
      this.constantRoots.push(root)
      this.constantIndex.set(root, index)
    }
    return { kind: 'const', index }
  }

  emit (code: Opcode, output: Tensor, inputs: ReadonlyArray<Tensor | Ref>, attrs: number[]): Tensor {
    const op: ProgramOp = { code, dtype: output.dtype, dims: [...output.shape], inputs: inputs.map(i => this.ref(i)), attrs }
    if (this.fault?.op === this.ops.length) corruptElement(output, this.fault.element)
    this.refs.set(output.data, { kind: 'op', index: this.ops.length })
    this.ops.push(op)
    this.outputs.push(output)
    return output
  }

  copy (a: Tensor, axes: readonly number[]): Tensor {
    const s = strides(a.shape)
    return this.emit(OPCODE.COPY, ops.permute(this.ctx, a, axes), [a], axes.map(i => s[i]))
  }

  binary (op: ops.BinaryOp, a: Tensor, b: Tensor, out = ops.binary(this.ctx, op, a, b)): Tensor {
    return this.emit(BINARY_OPCODE[op], out, [a, b], [...broadcastStrides(a.shape, out.shape), ...broadcastStrides(b.shape, out.shape)])
  }

  unary (op: ops.UnaryOp, a: Tensor, out = ops.unary(this.ctx, op, a)): Tensor {
    return this.emit(UNARY_OPCODE[op], out, [a], [])
  }

  /** A fold over the last axis (SUM or MAXR): n inputs per output element. */
  fold (code: Opcode, a: Tensor, out: Tensor): Tensor {
    return this.emit(code, out, [a], [a.shape[a.shape.length - 1]])
  }

  reduce (op: 'sum' | 'max', a: Tensor, axis: number, out = ops.reduce(this.ctx, op, a, axis)): Tensor {
    const code = op === 'sum' ? OPCODE.SUM : OPCODE.MAXR
    const last = a.shape.length - 1
    if (axis === last) return this.fold(code, a, out)
    const axes = [...Array(a.shape.length).keys()].filter(d => d !== axis)
    return this.fold(code, this.copy(a, [...axes, axis]), out)
  }

  /** op(A)·op(B) as DOT over rows of A' and rows of B' (B' holding op(B) transposed). */
  matmul (a: Tensor, b: Tensor, transA: boolean, transB: boolean, out = ops.matmul(this.ctx, a, b, transA, transB)): Tensor {
    const { m, k, n, bBatched } = ops.matmulShape(a.shape, b.shape, transA, transB)
    const rowsA = transA ? this.copy(a, lastTwoSwapped(a.shape.length)) : a
    const rowsB = transB ? b : this.copy(b, lastTwoSwapped(b.shape.length))
    return this.emit(OPCODE.DOT, out, [rowsA, rowsB], [m, n, k, bBatched ? 1 : 0])
  }

  private lower (rec: RecordedOp, inputs: readonly Tensor[], outputs: readonly Tensor[]): void {
    const [a, b] = inputs
    const out = outputs[0]
    switch (rec.op) {
      case 'binary': this.binary(rec.kind, a, b, out); return
      case 'unary': this.unary(rec.kind, a, out); return
      case 'reduce': this.reduce(rec.kind, a, rec.axis, out); return
      case 'sumTo': this.sumTo(a, out); return
      case 'expand': this.emit(OPCODE.COPY, out, [a], broadcastStrides(a.shape, out.shape)); return
      case 'matmul': this.matmul(a, b, rec.transA, rec.transB, out); return
      case 'permute': this.emit(OPCODE.COPY, out, [a], rec.axes.map(i => strides(a.shape)[i])); return
      case 'gather': this.emit(OPCODE.GATHER, out, [a, b], [a.shape[0], a.shape[1]]); return
      case 'scatterAdd': {
        const d = a.shape[a.shape.length - 1]
        const columns = this.copy(a.reshape([a.size / d, d]), [1, 0])
        this.emit(OPCODE.SCATTER, out, [columns, b], [rec.rows, a.size / d])
        return
      }
      case 'rope': this.emit(OPCODE.ROPE, out, inputs, [a.shape[a.shape.length - 1], a.shape[a.shape.length - 2]]); return
      case 'onehot': this.emit(OPCODE.ONEHOT, out, [a], [rec.vocab]); return
      case 'window': this.emit(OPCODE.WINDOW, out, [TOKENS], [rec.batch, rec.width, rec.offset, rec.window]); return
      case 'attention': this.attention(inputs, outputs, rec.scale); return
      case 'attentionBackward': this.attentionBackward(inputs, outputs, rec.scale); return
      case 'optimizer': this.optimizer(inputs); return
      case 'loss': {
        const ref = this.ref(a)
        if (ref.kind !== 'op' || a.size !== 1) throw new ProgramError('the step\'s loss is not the one-element output of an op')
        this.lossOp = ref.index
        return
      }
      default: return unlowered(rec)
    }
  }

  /** Sums a broadcast result back: the rows of a column, or (transposed) the tiles. */
  private sumTo (a: Tensor, out: Tensor): void {
    const len = out.size
    const column = out.shape.length === a.shape.length && out.shape[out.shape.length - 1] === 1 &&
      out.shape.slice(0, -1).every((d, i) => d === a.shape[i])
    if (column) { this.fold(OPCODE.SUM, a, out); return }
    const tile = out.shape.filter(d => d !== 1)
    if (!tile.every((d, i) => d === a.shape[a.shape.length - tile.length + i])) {
      throw new ProgramError(`the step program cannot sum [${a.shape.join(', ')}] to [${out.shape.join(', ')}]`)
    }
    if (len === 1) { this.emit(OPCODE.SUM, out, [a], [a.size]); return }
    this.fold(OPCODE.SUM, this.copy(a.reshape([a.size / len, len]), [1, 0]), out)
  }

  /** The composition attention.ts computes in one pass (see its doc comment). */
  private attention (inputs: readonly Tensor[], outputs: readonly Tensor[], scale: number): void {
    const [q, k, v, mask] = inputs
    const [out, p, e, z] = outputs
    const s = this.binary('add', this.binary('mul', this.matmul(q, k, false, true), Tensor.scalar(f(scale))), mask)
    const shifted = this.binary('sub', s, this.reduce('max', s, s.shape.length - 1))
    this.unary('exp', shifted, e)
    this.fold(OPCODE.SUM, e, z)
    this.binary('div', e, z, p)
    this.matmul(p, v, false, false, out)
  }

  private attentionBackward (inputs: readonly Tensor[], outputs: readonly Tensor[], scale: number): void {
    const [g, q, k, v, p, e, z] = inputs
    const [dq, dk, dv] = outputs
    const a = this.binary('div', this.matmul(g, v, false, true), z)
    const gz = this.reduce('sum', this.unary('neg', this.binary('mul', a, p)), a.shape.length - 1)
    const ds = this.binary('mul', this.binary('mul', this.binary('add', a, gz), e), Tensor.scalar(f(scale)))
    this.matmul(p, g, true, false, dv)
    this.matmul(ds, q, true, false, dk)
    this.matmul(ds, k, false, false, dq)
  }

  /** Clipping and AdamW (optim.ts) as ops; ends with m' of every slot, then v', then p'. */
  private optimizer (grads: readonly Tensor[]): void {
    const o = this.recipe.optimizer
    const count = grads.length
    const slotSums = grads.map(g => this.chunkedSum(this.binary('mul', g, g)))
    const perSlot = new Tensor([count], Float32Array.from(slotSums, t => t.f32[0]))
    const total = this.chunkedSum(this.emit(OPCODE.CONCAT, perSlot, slotSums, []))
    const { scale } = clipScale(o, grads.map(g => g.f32))
    const scaleT = this.emit(OPCODE.CLIP, Tensor.scalar(scale), [total], [f32Bits(f(o.gradClip))])
    const s = adamStep(o, this.step, this.recipe.steps, scale)
    const specs = paramSpecs(this.recipe.model)
    const next = specs.map((spec, i) => {
      const [p, m, v] = [i, count + i, 2 * count + i].map(slot => Float32Array.from(this.slots[slot].f32))
      adamUpdate(o, s, spec.decay, p, grads[i].f32, m, v)
      return [p, m, v].map(data => new Tensor(spec.shape, data))
    })
    const [b1, b2] = [f(o.beta1), f(o.beta2)]
    const schedule = scheduleOf(this.recipe)
    const mOps = next.map(([, m], i) => this.emit(OPCODE.ADAM_M, m, [grads[i], this.slots[count + i], scaleT], [f32Bits(b1), f32Bits(f(1 - b1))]))
    const vOps = next.map(([, , v], i) => this.emit(OPCODE.ADAM_V, v, [grads[i], this.slots[2 * count + i], scaleT], [f32Bits(b2), f32Bits(f(1 - b2))]))
    next.forEach(([p], i) => {
      const decay = specs[i].decay
      this.emit(OPCODE.ADAM_P, p, [this.slots[i], mOps[i], vOps[i], schedule], [f32Bits(f(o.eps)), f32Bits(decay ? f(o.weightDecay) : 0), decay ? 1 : 0])
    })
  }

  /** ops.chunkedSum as SUM ops: chunks of MAX_INPUTS, then their sums the same way. */
  private chunkedSum (values: Tensor): Tensor {
    let level = values.reshape([values.size])
    do {
      const n = Math.min(level.size, MAX_INPUTS)
      const sums = new Float32Array(Math.ceil(level.size / n))
      const x = level.f32
      for (let c = 0; c < sums.length; c++) {
        let acc = 0
        for (let i = c * n; i < Math.min(x.length, c * n + n); i++) acc = f(acc + x[i])
        sums[c] = acc
      }
      level = this.emit(OPCODE.SUM, new Tensor([sums.length], sums), [level], [n])
    } while (level.size > 1)
    return level
  }
}

/** Every engine op has a lowering: an op added to RecordedOp without one fails to typecheck here. */
function unlowered (op: never): never {
  throw new ProgramError(`the step program has no lowering for the engine op ${JSON.stringify(op)}`)
}

/** The schedule constant: (lr, 1 − β1^(t+1), 1 − β2^(t+1)) for every step t. */
export function scheduleOf (recipe: Recipe): Tensor {
  const out = new Float32Array(recipe.steps * 3)
  for (let t = 0; t < recipe.steps; t++) {
    const s = adamStep(recipe.optimizer, t, recipe.steps, 1)
    out.set([s.lr, s.c1, s.c2], 3 * t)
  }
  return new Tensor([recipe.steps * 3], out)
}

/**
 * One op per state slot, in slot order, that produces S_0 (initialState): the PRNG's
 * draws, or (fine-tuning) a COPY of each base weight from its program constant, whose
 * root the op's leaf, and so the program hash, carries.
 */
export function initProgram (recipe: Recipe, base?: readonly Ref[]): ProgramOp[] {
  const specs = paramSpecs(recipe.model)
  if ((recipe.base !== undefined) !== (base !== undefined)) throw new ProgramError(`recipe ${recipe.name}'s init program needs ${recipe.base === undefined ? 'no' : 'its'} base weights`)
  const params = specs.map((spec, slot): ProgramOp => base !== undefined
    ? { code: OPCODE.COPY, dtype: 'f32', dims: spec.shape, inputs: [base[slot]], attrs: strides(spec.shape) }
    : spec.init === 'ones'
      ? { code: OPCODE.FILL, dtype: 'f32', dims: spec.shape, inputs: [], attrs: [f32Bits(1)] }
      : { code: OPCODE.UNIFORM, dtype: 'f32', dims: spec.shape, inputs: [], attrs: [slot, f32Bits(f(f(sqrtf(3)) * f(spec.init.std)))] })
  const zeros = specs.map((spec): ProgramOp => ({ code: OPCODE.FILL, dtype: 'f32', dims: spec.shape, inputs: [], attrs: [0] }))
  return [...params, ...zeros, ...zeros]
}

/** A step of training, recorded: the program, every op's output, and S_t's slots. */
export interface StepTrace {
  program: Program
  outputs: Tensor[]
  /** The slots of S_t (copies: the step updates the state in place). */
  before: Tensor[]
  /** The step's loss, as trainStep returns it. */
  loss: number
}

/** A deliberate error for testing the network's defences: one element of one op's output. */
export interface Fault {
  op: number
  element: number
}

/** Changes element e of t: +1 for a finite float (its lowest bit if that changes nothing), the lowest bit otherwise. */
export function corruptElement (t: Tensor, e: number): void {
  const i = e % t.size
  const x = t.data[i]
  if (t.dtype === 'i32') { t.data[i] = x ^ 1; return }
  const bumped = f(x + 1)
  t.data[i] = Number.isFinite(x) && bumped !== x ? bumped : f32FromBits(f32Bits(x) ^ 1)
}

/**
 * Runs step `state.step` (advancing `state` to S_{t+1}, exactly as trainStep) while
 * recording it as the step program and its op trace. With a fault, that op's output is
 * corrupted as it is produced, so everything after it (and S_{t+1}) follows from the
 * corrupt value: what a cheating trainer commits to.
 */
export function traceStep (ctx: EngineContext, recipe: Recipe, tokens: TokenWindows, state: TrainState, options: { fault?: Fault, base?: readonly Tensor[] } = {}): StepTrace {
  const before = stateSlots(state).map(t => new Tensor(t.shape, Float32Array.from(t.f32)))
  const builder = new StepBuilder(ctx, recipe, stateSlots(state), state.step, options.fault)
  const loss = trainStep(withRecorder(ctx, builder.recorder), recipe, tokens, state, tablesFor(recipe.model))
  const p = paramSpecs(recipe.model).length
  // The program's S_{t+1} (its last 3P ops) must be the engine's, bit for bit.
  const next = stateSlots(state)
  const ends = builder.outputs.slice(-3 * p)
  const programNext = [...ends.slice(2 * p), ...ends.slice(0, 2 * p)]
  programNext.forEach((t, i) => {
    if (options.fault !== undefined) next[i].f32.set(t.f32)
    else if (!sameBits(t, next[i])) {
      throw new ProgramError(`the step program's slot ${i} differs from the engine's step`)
    }
  })
  // A fine-tuning recipe's base weights are constants after the step's (the init program copies them).
  const base = recipe.base === undefined ? undefined : checkBase(recipe, options.base).map(t => builder.constant(t, false))
  const constantRoots = builder.constantRoots
  const init = initProgram(recipe, base)
  if (builder.lossOp < 0) throw new ProgramError('the step marked no loss')
  const header = programHeader(builder.ops, init, p, constantRoots, builder.lossOp)
  checkInputs(builder.ops)
  const program: Program = { step: builder.ops, init, paramSlots: p, constants: builder.constants, constantRoots, header, hash: programHash(header) }
  // Op outputs may live in a backend's arena, which the next step reuses: keep copies.
  const outputs = builder.outputs.map(t => new Tensor(t.shape, t.data.slice()))
  return { program, outputs, before, loss }
}

function sameBits (a: Tensor, b: Tensor): boolean {
  return Buffer.compare(a.bytes, b.bytes) === 0
}

const copyState = (state: TrainState): TrainState => {
  const copy = (t: Tensor): Tensor => new Tensor(t.shape, Float32Array.from(t.f32))
  return { step: state.step, params: state.params.map(copy), m: state.m.map(copy), v: state.v.map(copy) }
}

/**
 * Whether a fault in the step from `state` reaches S_{t+1} (a corrupted value nothing
 * reads is no lie anyone could catch). `state` is left as it is.
 */
export function faultChangesState (ctx: EngineContext, recipe: Recipe, tokens: TokenWindows, state: TrainState, fault: Fault, base?: readonly Tensor[]): boolean {
  const honest = copyState(state)
  const faulty = copyState(state)
  traceStep(ctx, recipe, tokens, honest, { base })
  traceStep(ctx, recipe, tokens, faulty, { fault, base })
  return stateSlots(honest).some((t, i) => !sameBits(t, stateSlots(faulty)[i]))
}

/**
 * The tensors `op` reads in a traced step: slots of S_t, earlier outputs, the tokens,
 * constants. The tokens are whatever the caller holds them as: a tensor, or a stored
 * stream read by windows (a challenger proves a WINDOW element from it).
 */
export function opInputs<T = Tensor> (op: ProgramOp, trace: Pick<StepTrace, 'program' | 'before' | 'outputs'>, tokens: T): Array<Tensor | T> {
  return op.inputs.map(r => r.kind === 'slot' ? trace.before[r.index] : r.kind === 'op' ? trace.outputs[r.index] : r.kind === 'tokens' ? tokens : trace.program.constants[r.index])
}

/** The program of a recipe (and its base weights, fine-tuning), from one recorded step on synthetic tokens. */
export function compileProgram (ctx: EngineContext, recipe: Recipe, base?: readonly Tensor[]): Program {
  const tokens = new Int32Array(recipe.model.context + 2)
  return traceStep(ctx, recipe, tokens, initialState(recipe, base), { base }).program
}

/** Every element of every op must read at most MAX_INPUTS inputs (checked by shape). */
export function checkInputs (program: ProgramOp[]): void {
  program.forEach((op, i) => {
    const fold = op.code === OPCODE.SUM || op.code === OPCODE.MAXR || op.code === OPCODE.ARGMAX
    const reads = op.code === OPCODE.DOT ? 2 * op.attrs[2] : op.code === OPCODE.SCATTER ? 2 * op.attrs[1] : fold ? op.attrs[0] : op.inputs.length + 1
    if (reads > MAX_INPUTS) throw new ProgramError(`op ${i} (code ${op.code}) reads ${reads} inputs per element, more than ${MAX_INPUTS}`)
  })
}
