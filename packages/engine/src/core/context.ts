import type { BinaryOp, UnaryOp } from './ops.ts'
import type { Tensor } from './tensor.ts'

/**
 * What the ops of a step run with: where their outputs live, which fast kernels compute
 * them, and who records them. Every op takes a context as its first argument and no op
 * keeps state of its own, so nodes in one process (the demo, the node tests) each run
 * their steps on their own context: one's arena, kernels or recorder never reach another.
 */
export interface EngineContext {
  readonly allocator: Allocator
  readonly kernels: FastKernels
  /** Sees every op as it runs (the step program compiler, program.ts); null: nobody listens. */
  readonly recorder: OpRecorder | null
}

/** Where op outputs live: plain arrays by default, a backend's shared memory when it has one. */
export interface Allocator {
  /** An array of n floats, zero-filled unless the caller will overwrite every element. */
  f32(n: number, overwritten?: boolean): Float32Array
  /** Called at the start of each training step: earlier outputs may be reused. */
  startStep(): void
}

/**
 * The codes the fast kernels (assembly/kernels.ts, native/kernels.c) take for an op:
 * their ABI, a vocabulary apart from the step program's OPCODE. Exp has a kernel of its own.
 */
export const KERNEL_CODE = {
  binary: { add: 0, sub: 1, mul: 2, div: 3, max: 4, cmpge: 5 },
  unary: { neg: 0, recip: 1, sqrt: 2 },
  /** How the second operand of a binary kernel is read. */
  broadcast: { scalar: 0, full: 1, tile: 2, column: 3 }
} as const satisfies {
  binary: Record<BinaryOp, number>
  unary: Partial<Record<UnaryOp, number>>
  broadcast: Record<string, number>
}

export type KernelUnaryOp = keyof typeof KERNEL_CODE.unary
export const hasUnaryKernel = (op: UnaryOp): op is KernelUnaryOp => op in KERNEL_CODE.unary
export type Broadcast = keyof typeof KERNEL_CODE.broadcast

/** What the attention op keeps for its gradient: probabilities, exponentials, row sums. */
export interface AttentionSaved {
  p: Tensor
  e: Tensor
  z: Tensor
}

export interface AttentionGrads {
  dq: Tensor
  dk: Tensor
  dv: Tensor
}

/**
 * Kernels a fast backend supplies in place of the reference ones; same bits by contract.
 * Each may decline (false or null), and the op then runs its reference kernel.
 */
export interface FastKernels {
  matmul?: (a: Tensor, b: Tensor, transA: boolean, transB: boolean) => Tensor
  exp?: (a: Tensor) => Tensor
  /** Elementwise loops into `out`, an array of this context's allocator. */
  binary?: (op: typeof KERNEL_CODE.binary[BinaryOp], out: Float32Array, x: Float32Array, y: Float32Array, how: Broadcast, period: number) => boolean
  unary?: (op: typeof KERNEL_CODE.unary[KernelUnaryOp], out: Float32Array, x: Float32Array) => boolean
  attention?: (q: Tensor, k: Tensor, v: Tensor, mask: Tensor, scale: number) => { out: Tensor, saved: AttentionSaved } | null
  attentionBackward?: (g: Tensor, q: Tensor, k: Tensor, v: Tensor, saved: AttentionSaved, scale: number) => AttentionGrads | null
}

/**
 * An engine op as the recorder sees it, with what its lowering needs besides the
 * inputs and outputs (program.ts lowers each into program ops).
 */
export type RecordedOp =
  | { op: 'binary', kind: BinaryOp }
  | { op: 'unary', kind: UnaryOp }
  | { op: 'reduce', kind: 'sum' | 'max', axis: number }
  | { op: 'sumTo' }
  | { op: 'expand' }
  | { op: 'matmul', transA: boolean, transB: boolean }
  | { op: 'permute', axes: readonly number[] }
  | { op: 'gather' }
  | { op: 'scatterAdd', rows: number }
  | { op: 'rope' }
  | { op: 'onehot', vocab: number }
  /** Rows of `width` tokens from the stream, `offset` after each sampled start (train.ts). */
  | { op: 'window', batch: number, window: number, width: number, offset: number }
  | { op: 'attention', scale: number }
  | { op: 'attentionBackward', scale: number }
  /** Marks the op whose output is the step's loss (no output of its own). */
  | { op: 'loss' }
  /** Marks the gradients the optimizer update reads (no output of its own). */
  | { op: 'optimizer' }

export type OpRecorder = (op: RecordedOp, inputs: readonly Tensor[], outputs: readonly Tensor[]) => void

const plainAllocator: Allocator = { f32: n => new Float32Array(n), startStep: () => {} }

/** A context of the reference kernels on plain arrays, recording nothing. */
export function referenceContext (): EngineContext {
  return { allocator: plainAllocator, kernels: {}, recorder: null }
}

/** The same context with another recorder (null: recording nothing). */
export function withRecorder (ctx: EngineContext, recorder: OpRecorder | null): EngineContext {
  return { ...ctx, recorder }
}

/** A zero-filled output array from the context's allocator. */
export function allocF32 (ctx: EngineContext, n: number): Float32Array {
  return ctx.allocator.f32(n, false)
}

/** An output array every element of which the caller writes (no zero-fill needed). */
export function allocOut (ctx: EngineContext, n: number): Float32Array {
  return ctx.allocator.f32(n, true)
}

/** Marks a new training step: op outputs of the previous one are no longer needed. */
export function startStep (ctx: EngineContext): void {
  ctx.allocator.startStep()
}

/** Reports an op to the context's recorder, if one listens. */
export function record (ctx: EngineContext, op: RecordedOp, inputs: readonly Tensor[], outputs: readonly Tensor[]): void {
  ctx.recorder?.(op, inputs, outputs)
}

/** Reports an op to the context's recorder, if one listens; returns the op's first output. */
export function recordOp<T extends Tensor> (ctx: EngineContext, op: RecordedOp, inputs: readonly Tensor[], outputs: readonly [T, ...Tensor[]]): T {
  ctx.recorder?.(op, inputs, outputs)
  return outputs[0]
}
