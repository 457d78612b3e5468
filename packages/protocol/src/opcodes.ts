/**
 * The one vocabulary of step-program ops (docs/step-program.md), shared with the
 * Solidity verifier (StepOps): every op name, its code, and its group. Tables keyed
 * by these names (`Record<OpName, ...>`) make a missing op a type error.
 */
export const OPCODE = {
  ADD: 1, SUB: 2, MUL: 3, DIV: 4, MAX: 5, CMPGE: 6,
  NEG: 7, EXP: 8, LOG: 9, SQRT: 10, RECIP: 11, COPY: 12,
  SUM: 16, MAXR: 17, DOT: 18, SCATTER: 19, ARGMAX: 20,
  GATHER: 32, WINDOW: 33, ONEHOT: 34, ROPE: 35, CONCAT: 36, UNIFORM: 37, FILL: 38,
  CLIP: 48, ADAM_M: 49, ADAM_V: 50, ADAM_P: 51,
  WEIGHT: 64, RANK: 65, SCAN: 66, KEEP: 67, UNIFORM_AT: 68, FINDFIRST: 69
} as const

export type OpName = keyof typeof OPCODE
export type Opcode = typeof OPCODE[OpName]

/** The elementwise binary ops, by the engine's names, and their codes. */
export const BINARY_OPCODE = { add: OPCODE.ADD, sub: OPCODE.SUB, mul: OPCODE.MUL, div: OPCODE.DIV, max: OPCODE.MAX, cmpge: OPCODE.CMPGE } as const
export type BinaryOp = keyof typeof BINARY_OPCODE

/** The elementwise unary ops, by the engine's names, and their codes. */
export const UNARY_OPCODE = { neg: OPCODE.NEG, exp: OPCODE.EXP, log: OPCODE.LOG, sqrt: OPCODE.SQRT, recip: OPCODE.RECIP } as const
export type UnaryOp = keyof typeof UNARY_OPCODE

/** The op groups the verifier dispatches by (`code >> 4`), with the names of their ops. */
export const OP_GROUPS = {
  elementwise: ['ADD', 'SUB', 'MUL', 'DIV', 'MAX', 'CMPGE', 'NEG', 'EXP', 'LOG', 'SQRT', 'RECIP', 'COPY'],
  reduce: ['SUM', 'MAXR', 'DOT', 'SCATTER', 'ARGMAX'],
  data: ['GATHER', 'WINDOW', 'ONEHOT', 'ROPE', 'CONCAT', 'UNIFORM', 'FILL'],
  optimizer: ['CLIP', 'ADAM_M', 'ADAM_V', 'ADAM_P'],
  /** The seeded pick of a generated token (docs/inference.md): only forward programs of sampled answers use them. */
  sampling: ['WEIGHT', 'RANK', 'SCAN', 'KEEP', 'UNIFORM_AT', 'FINDFIRST']
} as const satisfies Record<string, readonly OpName[]>
export type OpGroup = keyof typeof OP_GROUPS
export type ElementwiseOp = typeof OP_GROUPS.elementwise[number]
export type ReduceOp = typeof OP_GROUPS.reduce[number]
export type DataOp = typeof OP_GROUPS.data[number]
export type OptimizerOp = typeof OP_GROUPS.optimizer[number]
export type SamplingOp = typeof OP_GROUPS.sampling[number]

/** No output element may read more inputs than this: any element is checkable on-chain. */
export const MAX_INPUTS = 4096

const NAMES = new Map<number, OpName>(Object.entries(OPCODE).map(([name, code]) => [code, name as OpName]))

/** The name of an op code, or undefined for a code the protocol does not have. */
export function opName (code: number): OpName | undefined {
  return NAMES.get(code)
}
