import { encodeAbiParameters, keccak256, type Hex } from 'viem'
import { nodeRoot, opLeaf, OPCODE, ProgramError, PURPOSE, toHex, uniform, type ElementContext, type ProgramOp, type Ref } from '@commons/protocol'
import { constant } from '../core/autograd.ts'
import { startStep, withRecorder, type EngineContext } from '../core/context.ts'
import { Tensor } from '../core/tensor.ts'
import { argmax, findFirst, inRankOrder, keep, ranks, scan, weights as weightsOf, type SamplingWords } from './sample.ts'
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
 *
 * The program of a sampled answer is the greedy one followed by the sampling ops
 * (sample.ts), whose last op is the pick. Its tokens input is the window followed by the
 * three sampling words of the receipt (temperature, top-k, top-p), and the seed and the
 * token's index are the element context, so one program per T serves every parameter.
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
  /** The program's tokens input: the window, then the sampling words of a sampled answer. */
  tokens: Tensor
  /** What element programs read besides inputs: a sampled answer's seed and the token's index. */
  context: ElementContext
}

/** How the token of a sampled answer is picked: the receipt's seed and words, and the token's index in the output. */
export interface SampledPick {
  seed: number
  index: number
  words: SamplingWords
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
export function traceForward (ctx: EngineContext, recipe: Recipe, weights: readonly Tensor[], window: ArrayLike<number>, options: { fault?: Fault, sampling?: SampledPick } = {}): ForwardTrace {
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
  const best = builder.emit(OPCODE.ARGMAX, new Tensor([1], Int32Array.of(argmax(logits.f32.subarray((length - 1) * vocab)))), [logits], [vocab, length - 1])
  const { sampling } = options
  const pick = sampling === undefined ? best : emitSampling(builder, logits, best, length, sampling)
  const ops = builder.ops
  checkInputs(ops)
  const constantRoots = builder.constantRoots
  const opsRoot = toHex(nodeRoot(ops.map(op => opLeaf(op, constantRoots))))
  const program: ForwardProgram = { ops, length, paramSlots: slots, constants: builder.constants, constantRoots, opsRoot, hash: forwardProgramHash(opsRoot, ops.length, slots, length) }
  // Op outputs may live in a backend's arena, which the next forward reuses: keep copies.
  const outputs = builder.outputs.map(t => new Tensor(t.shape, t.data.slice()))
  const words = sampling?.words ?? { temperatureBits: 0, topK: 0, topPBits: 0 }
  const input = sampling === undefined ? tokens.reshape([length]) : new Tensor([length + 3], Int32Array.from([...tokens.i32, words.temperatureBits | 0, words.topK | 0, words.topPBits | 0]))
  return { program, outputs, token: pick.i32[0], tokens: input, context: { seed: sampling?.seed ?? 0, step: sampling?.index ?? 0 } }
}

/**
 * The sampling ops after the greedy ARGMAX, each computed from the outputs before it as
 * emitted (so a fault in one carries into the next, as a lying provider's would).
 */
function emitSampling (builder: StepBuilder, logits: Tensor, best: Tensor, length: number, sampling: SampledPick): Tensor {
  const vocab = logits.shape[logits.shape.length - 1]
  const x = logits.f32.subarray((length - 1) * vocab, length * vocab)
  const vector = (data: Float32Array | Int32Array): Tensor => new Tensor([data.length], data)
  const w = builder.emit(OPCODE.WEIGHT, vector(weightsOf(x, best.i32[0], sampling.words.temperatureBits)), [logits, best, TOKENS], [vocab, length - 1, length])
  const rank = builder.emit(OPCODE.RANK, new Tensor([vocab], ranks(x)), [logits], [vocab, length - 1])
  const ranked = builder.emit(OPCODE.SCATTER, new Tensor([vocab, 1], inRankOrder(w.f32, rank.i32)), [w, rank], [vocab, vocab])
  const running = builder.emit(OPCODE.SCAN, vector(scan(ranked.f32)), [ranked], [vocab])
  const kept = builder.emit(OPCODE.KEEP, vector(keep(running.f32, rank.i32, w.f32, sampling.words)), [running, rank, w, TOKENS], [vocab, length + 1])
  const keptRunning = builder.emit(OPCODE.SCAN, vector(scan(kept.f32)), [kept], [vocab])
  const u = builder.emit(OPCODE.UNIFORM_AT, new Tensor([1], Float32Array.of(uniform(sampling.seed, PURPOSE.SAMPLE, sampling.index))), [], [PURPOSE.SAMPLE])
  return builder.emit(OPCODE.FINDFIRST, new Tensor([1], Int32Array.of(findFirst(keptRunning.f32, u.f32[0], best.i32[0]))), [keptRunning, u, best], [vocab])
}

/**
 * The forward program of a recipe for windows of T tokens, greedy or sampled (it depends
 * on neither the weights, the tokens, nor the sampling parameters).
 */
export function compileForwardProgram (ctx: EngineContext, recipe: Recipe, length: number, sampled = false): ForwardProgram {
  const sampling = sampled ? { seed: 0, index: 0, words: { temperatureBits: 0x3f800000, topK: 0, topPBits: 0 } } : undefined
  return traceForward(ctx, recipe, initParams(recipe.model, recipe.seed), new Int32Array(length), { sampling }).program
}

/** The tensors `op` reads in a traced forward: parameter slots, earlier outputs, the window, constants. */
export function forwardInputs (op: ProgramOp, trace: Pick<ForwardTrace, 'program' | 'outputs'>, weights: readonly Tensor[], window: Tensor): Tensor[] {
  return op.inputs.map(r => r.kind === 'slot' ? weights[r.index] : r.kind === 'op' ? trace.outputs[r.index] : r.kind === 'tokens' ? window : trace.program.constants[r.index])
}
