import { BaseError } from '@commons/errors'
import type { Hex } from 'viem'
import type { Opcode } from './opcodes.ts'
import type { DType } from './words.ts'

/**
 * The step program's data (docs/step-program.md): one training step as a list of ops
 * whose every output element is a small program of at most MAX_INPUTS inputs, so that
 * any element can be checked on-chain. The engine compiles it; this is its shape.
 */

export class ProgramError extends BaseError {
  override name = 'ProgramError'
}

export type RefKind = 'slot' | 'op' | 'tokens' | 'const'

/** Where an op input comes from: a slot of S_t, an earlier op, the tokens, a constant. */
export interface Ref {
  kind: RefKind
  index: number
}

export interface ProgramOp {
  code: Opcode
  dtype: DType
  dims: number[]
  inputs: Ref[]
  /** uint32 words; floats as binary32 bit patterns. */
  attrs: number[]
}

/** What the chain needs to check ops against `hash` (the job's program hash). */
export interface ProgramHeader {
  stepOpsRoot: Hex
  stepOps: number
  paramSlots: number
  initOpsRoot: Hex
  /** The step op whose output (one element) is the step's loss, as the transcript records it. */
  lossOp: number
}

/** The seed and step an element program may read. */
export interface ElementContext {
  seed: number
  step: number
}
