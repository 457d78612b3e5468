import { encodeAbiParameters, keccak256, type Hex } from 'viem'
import { nodeRoot, opLeaf, OPCODE, ProgramError, toHex, type ProgramOp, type Ref } from '@commons/protocol'
import { constant } from '../core/autograd.ts'
import { startStep, withRecorder, type EngineContext } from '../core/context.ts'
import { Tensor } from '../core/tensor.ts'
import { argmax } from '../model/generate.ts'
import { forward, initParams, makeTables, paramSpecs } from '../model/model.ts'
import type { Recipe } from '../model/recipe.ts'
import { checkInputs, StepBuilder, type Fault } from '../train/program.ts'

/**
 * The forward program of a generated token (docs/inference.md, "Design: disputing a
 * generated token"): the full-window forward of T tokens, lowered to the step program's
 * ops by the same recorder as traceStep, ending in one ARGMAX over the last row of the
 * logits, the greedy pick. Its inputs are the parameter slots (kind 0), the window
 * (kind 2, the tokens input: T tokens) and constants (RoPE tables and causal mask for T,
 * scalars). The KV-cache decoder gives the bits of this forward (model/decode.test.ts),
 * so no cache state is part of what is disputed.
 */

export interface ForwardProgram {
  ops: ProgramOp[]
  /** The window length T (1 ≤ T ≤ context): one program per T. */
  length: number
  paramSlots: number
  constants: Tensor[]
  constantRoots: Hex[]
  /** nodeRoot of the op leaves (as a step program's stepOpsRoot). */
  opsRoot: Hex
  /** keccak256(abi.encode(opsRoot, uint32 ops, uint32 paramSlots, uint32 length)). */
  hash: Hex
}

/** A forward recorded: the program, every op's output, and the token its last op picks. */
export interface ForwardTrace {
  program: ForwardProgram
  outputs: Tensor[]
  token: number
}

const TOKENS: Ref = { kind: 'tokens', index: 0 }

/** The hash a service would register for the forward program of one window length. */
export function forwardProgramHash (opsRoot: Hex, ops: number, paramSlots: number, length: number): Hex {
  return keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint32' }, { type: 'uint32' }, { type: 'uint32' }], [opsRoot, ops, paramSlots, length]))
}

/**
 * Runs the forward of `window` on `weights` (the recipe's parameter slots, in slot order)
 * while recording it as the forward program, and picks the next token greedily. With a
 * fault, that op's output is corrupted as it is produced (what a lying provider commits to).
 */
export function traceForward (ctx: EngineContext, recipe: Recipe, weights: readonly Tensor[], window: ArrayLike<number>, options: { fault?: Fault } = {}): ForwardTrace {
  const model = recipe.model
  if (model.kind !== 'transformer') throw new ProgramError(`recipe ${recipe.name} is not a transformer: only a transformer's forward is a program`)
  const length = window.length
  if (length < 1 || length > model.context) throw new ProgramError(`a window of ${length} tokens does not fit the context of ${model.context}`)
  const slots = paramSpecs(model).length
  if (weights.length !== slots) throw new ProgramError(`recipe ${recipe.name} has ${slots} parameter slots, got ${weights.length} weights`)
  const tokens = new Tensor([1, length], Int32Array.from(window))
  const builder = new StepBuilder(ctx, recipe, [...weights], 0, options.fault)
  builder.bind(tokens, TOKENS)
  startStep(ctx)
  const logits = forward(withRecorder(ctx, builder.recorder), model, weights.map(constant), tokens, makeTables(model, length)).value // (T, V)
  const vocab = model.vocab
  const pick = new Tensor([1], Int32Array.of(argmax(logits.f32.subarray((length - 1) * vocab))))
  builder.emit(OPCODE.ARGMAX, pick, [logits], [vocab, length - 1])
  const ops = builder.ops
  checkInputs(ops)
  const constantRoots = builder.constantRoots
  const opsRoot = toHex(nodeRoot(ops.map(op => opLeaf(op, constantRoots))))
  const program: ForwardProgram = { ops, length, paramSlots: slots, constants: builder.constants, constantRoots, opsRoot, hash: forwardProgramHash(opsRoot, ops.length, slots, length) }
  // Op outputs may live in a backend's arena, which the next forward reuses: keep copies.
  const outputs = builder.outputs.map(t => new Tensor(t.shape, t.data.slice()))
  return { program, outputs, token: pick.i32[0] }
}

/** The forward program of a recipe for windows of T tokens (it depends on neither the weights nor the tokens). */
export function compileForwardProgram (ctx: EngineContext, recipe: Recipe, length: number): ForwardProgram {
  return traceForward(ctx, recipe, initParams(recipe.model, recipe.seed), new Int32Array(length)).program
}

/** The tensors `op` reads in a traced forward: parameter slots, earlier outputs, the window, constants. */
export function forwardInputs (op: ProgramOp, trace: Pick<ForwardTrace, 'program' | 'outputs'>, weights: readonly Tensor[], window: Tensor): Tensor[] {
  return op.inputs.map(r => r.kind === 'slot' ? weights[r.index] : r.kind === 'op' ? trace.outputs[r.index] : r.kind === 'tokens' ? window : trace.program.constants[r.index])
}
