import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import { BaseError } from '@commons/errors'
import { BpeTokenizer, parseTokenizerJson } from '@commons/tokenizer'
import { tensorRoot, toHex, transcriptRootOf, wordOf, type Hash } from '@commons/protocol'
export { recordHashes, transcriptRootOf } from '@commons/protocol'
import '../backends/nativeMerkle.ts'
import { paramSpecs } from '../model/model.ts'
import { InvalidRecipeError, parseRecipe, type Recipe } from '../model/recipe.ts'
import { CorruptCheckpointError, readSafetensors, writeSafetensors } from '../model/safetensors.ts'
import { modelFileMetadata } from './modelFile.ts'
import { evalLoss, initialState, slotNames, stateRootOf, stateSlots, tablesFor, trainStep, type TokenStream, type TokenWindows, type TrainState } from './train.ts'
import { Tensor } from '../core/tensor.ts'
import { corruptElement, traceStep } from './program.ts'
import type { EngineContext } from '../core/context.ts'

export class RunDirError extends BaseError {
  override name = 'RunDirError'
}

export class DataMismatchError extends BaseError {
  override name = 'DataMismatchError'
}

/** What a run trained on: where the tokens came from and their commitment. */
export interface DataInfo {
  source: string
  tokens: number
  tokensRoot: `0x${string}`
}

export interface StepRecord {
  step: number
  state: `0x${string}`
  loss: number
}

export interface StepProgress {
  step: number
  steps: number
  loss: number
  tokensPerSecond: number
  etaSeconds: number
}

export interface TrainResult {
  finalRoot: `0x${string}`
  transcriptRoot: `0x${string}`
  steps: number
  losses: number[]
  records: StepRecord[]
}

export function tokensRootOf (tokens: Int32Array): `0x${string}` {
  return toHex(tensorRoot(new Tensor([tokens.length], tokens)))
}

/** The tokens root of training data: hashed here for an array, as recorded for a stored stream. */
export function dataTokensRoot (tokens: Int32Array | TokenStream): `0x${string}` {
  return tokens instanceof Int32Array ? tokensRootOf(tokens) : tokens.tokensRoot
}

/** Every token must be a word of the model's vocabulary: found by a scan of an array, by the range of a stream. */
function checkVocabulary (tokens: Int32Array | TokenStream, vocab: number): void {
  const hint = 'tokenize the data with the recipe\'s tokenizer'
  if (tokens instanceof Int32Array) {
    const outside = tokens.findIndex(t => t < 0 || t >= vocab)
    if (outside >= 0) throw new DataMismatchError(`token ${tokens[outside]} at ${outside} is outside the model's vocabulary of ${vocab}`, { hint })
  } else if (tokens.length > 0 && (tokens.min < 0 || tokens.max >= vocab)) {
    throw new DataMismatchError(`tokens range from ${tokens.min} to ${tokens.max}, outside the model's vocabulary of ${vocab}`, { hint, details: { min: tokens.min, max: tokens.max, vocab } })
  }
}

const checkpointName = (step: number): string => `step-${String(step).padStart(7, '0')}.safetensors`

async function saveCheckpoint (dir: string, recipe: Recipe, state: TrainState, root: Hash): Promise<void> {
  const names = slotNames(recipe.model)
  await writeSafetensors(join(dir, 'checkpoints', checkpointName(state.step)), stateSlots(state).map((t, i) => [names[i], t]), {
    step: String(state.step),
    stateRoot: toHex(root),
    recipe: JSON.stringify(recipe)
  })
}

/**
 * Loads the checkpoint of `step` and checks it: every slot present with the right
 * shape, and its state root equal to the one recorded when it was written.
 */
export async function loadCheckpoint (dir: string, recipe: Recipe, step: number): Promise<TrainState> {
  const path = join(dir, 'checkpoints', checkpointName(step))
  const { tensors, metadata } = await readSafetensors(path)
  const names = slotNames(recipe.model)
  const specs = paramSpecs(recipe.model)
  const slots = names.map((name, i) => {
    const t = tensors.get(name)
    const shape = specs[i % specs.length].shape
    if (t === undefined || t.shape.length !== shape.length || t.shape.some((d, j) => d !== shape[j])) {
      throw new CorruptCheckpointError(`${path} lacks ${name} or has the wrong shape for it`, { hint: 'the checkpoint is damaged or from another recipe' })
    }
    return t
  })
  const n = specs.length
  const state: TrainState = { step, params: slots.slice(0, n), m: slots.slice(n, 2 * n), v: slots.slice(2 * n) }
  if (Number(metadata.step) !== step || toHex(stateRootOf(state)) !== metadata.stateRoot) {
    throw new CorruptCheckpointError(`${path} does not match the state root recorded in it: the file is damaged`, {
      hint: 'resume or replay from another checkpoint', details: { path, recorded: metadata.stateRoot }
    })
  }
  return state
}

/** Steps that have a checkpoint in a run directory, ascending. */
export async function checkpointSteps (dir: string): Promise<number[]> {
  const files = await readdir(join(dir, 'checkpoints')).catch(() => [] as string[])
  return files.map(f => /^step-(\d+)\.safetensors$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).map(Number).sort((a, b) => a - b)
}

/**
 * One transcript record as a line of transcript.jsonl. JSON has no NaN, infinities or
 * negative zero, and a diverged run's loss can be any of them: those are written as the
 * strings "NaN", "Infinity", "-Infinity" and "-0", so the record hashes the same after
 * a round trip.
 */
export function formatRecord (record: StepRecord): string {
  const loss = Object.is(record.loss, -0) ? '-0' : Number.isFinite(record.loss) ? record.loss : String(record.loss)
  return JSON.stringify({ ...record, loss }) + '\n'
}

export function parseRecord (line: string): StepRecord {
  const raw = JSON.parse(line) as { step: number, state: `0x${string}`, loss: number | string }
  return { step: raw.step, state: raw.state, loss: typeof raw.loss === 'string' ? Number(raw.loss) : raw.loss }
}

/**
 * The transcript records of a run directory, in step order. A last line without its
 * newline is a record a crash tore while it was being appended: it is left out (a
 * resumed run writes it again).
 */
export async function readRecords (dir: string): Promise<StepRecord[]> {
  const text = await readFile(join(dir, 'transcript.jsonl'), 'utf8').catch(() => '')
  const lines = text.split('\n')
  return lines.slice(0, -1).filter(line => line.trim() !== '').map(parseRecord)
}

export interface RunInfo {
  recipe: Recipe
  data: DataInfo
}

export async function readRunInfo (dir: string): Promise<RunInfo> {
  let json: { recipe: unknown, data: DataInfo }
  try {
    json = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8'))
  } catch (cause) {
    throw new RunDirError(`${dir} is not a training run (no readable run.json)`, { hint: 'pass the --out directory of commons train', cause })
  }
  return { recipe: parseRecipe(json.recipe, join(dir, 'run.json')), data: json.data }
}

export interface TrainParams {
  recipe: Recipe
  /** The tokens in memory, or a stored stream read by windows (same run, bit for bit). */
  tokens: Int32Array | TokenStream
  data: Omit<DataInfo, 'tokens' | 'tokensRoot'>
  out: string
  /** Continue the run in `out` from its last checkpoint. */
  resume?: boolean
  /** Stop after this step (to test resuming); the run can be resumed later. */
  stopAfter?: number
  onStep?: (progress: StepProgress) => void
  /** Train dishonestly on purpose (testing the network's defences): see RunFault. */
  fault?: RunFault
  /** A BPE recipe's tokenizer.json, kept in the run (generate and export read it there). */
  tokenizerJson?: Uint8Array
  /** A fine-tuning recipe's base weights, in slot order (baseWeights.ts): S_0's parameters. */
  base?: readonly Tensor[]
}

/**
 * A deliberate error: element `element` of op `op` of the step program at step `step`
 * (everything after follows from it), element `element` of slot `slot` of S_0, or the
 * loss recorded for step `step` (the states stay honest: a lie in the transcript only;
 * step = steps lies about the last record's evaluation loss), or weight `element` of
 * parameter `slot` in model.safetensors (the transcript stays honest: a lie in the file only).
 */
export type RunFault = { kind: 'step', step: number, op: number, element: number } | { kind: 'init', slot: number, element: number } | { kind: 'loss', step: number } | { kind: 'model', slot: number, element: number } | { kind: 'header', slot: number }

/** S_0, corrupted if the fault says so. */
/**
 * The header fault: parameter `slot`'s name swapped with that of the next parameter of the
 * same shape (else the next one), so every weight sits at its canonical offset but the
 * header maps the two names to each other's bytes: readers load another model.
 */
function swapNames (recipe: Recipe, names: string[], slot: number): void {
  const shapes = paramSpecs(recipe.model).map(p => p.shape.join('x'))
  const same = shapes.findIndex((shape, i) => i > slot && shape === shapes[slot])
  const other = same >= 0 ? same : (slot + 1) % names.length
  ;[names[slot], names[other]] = [names[other], names[slot]]
}

function startState (recipe: Recipe, fault?: RunFault, base?: readonly Tensor[]): TrainState {
  const state = initialState(recipe, base)
  if (fault?.kind === 'init') corruptElement(stateSlots(state)[fault.slot], fault.element)
  return state
}

/** One step of a run: trainStep, or the faulty step traced with its corruption. */
function runStep (ctx: EngineContext, recipe: Recipe, tokens: TokenWindows, state: TrainState, tables: ReturnType<typeof tablesFor>, fault?: RunFault, base?: readonly Tensor[]): number {
  if (fault?.kind === 'step' && fault.step === state.step) return traceStep(ctx, recipe, tokens, state, { fault, base }).loss
  const lies = fault?.kind === 'loss' && fault.step === state.step
  const loss = trainStep(ctx, recipe, tokens, state, tables)
  return lies ? (Number.isFinite(loss) ? loss + 1 : 0) : loss
}

/**
 * The state of a run at `step`, as its trainer computed it: from the nearest checkpoint
 * at or before it, steps re-run (with the run's fault, if it had one).
 */
export async function runStateAt (ctx: EngineContext, dir: string, tokens: TokenWindows, step: number, fault?: RunFault, base?: readonly Tensor[]): Promise<TrainState> {
  const { recipe } = await readRunInfo(dir)
  const start = (await checkpointSteps(dir)).filter(s => s <= step).pop()
  if (start === undefined) throw new RunDirError(`no checkpoint at or before step ${step} in ${dir}`)
  const state = await loadCheckpoint(dir, recipe, start)
  const tables = tablesFor(recipe.model)
  while (state.step < step) runStep(ctx, recipe, tokens, state, tables, fault, base)
  return state
}

/**
 * Trains a recipe on tokens, writing to `out`: run.json, a transcript record per
 * step (state root S_t and loss), checkpoints every `checkpointInterval` steps, and
 * at the end model.safetensors and transcript.json with the transcript root. A fresh
 * run refuses a directory that is not empty; --resume picks up at the last checkpoint.
 */
export async function train (ctx: EngineContext, params: TrainParams): Promise<TrainResult> {
  const { recipe, tokens, out } = params
  const vocab = recipe.model.vocab
  checkVocabulary(tokens, vocab)
  if (recipe.tokenizer !== 'byte') {
    if (params.tokenizerJson === undefined) throw new RunDirError(`recipe ${recipe.name} uses the tokenizer ${recipe.tokenizer}: pass its tokenizer.json`)
    const tokenizerVocab = new BpeTokenizer(parseTokenizerJson(JSON.parse(Buffer.from(params.tokenizerJson).toString('utf8')))).vocab
    if (tokenizerVocab !== vocab) throw new InvalidRecipeError(`recipe ${recipe.name} has a vocabulary of ${vocab}, its tokenizer ${tokenizerVocab}`, { hint: `set model.vocab to ${tokenizerVocab}` })
  }
  const data: DataInfo = { ...params.data, tokens: tokens.length, tokensRoot: dataTokensRoot(tokens) }
  let state: TrainState
  let records: StepRecord[]
  if (params.resume === true) {
    const info = await readRunInfo(out)
    if (JSON.stringify(info.recipe) !== JSON.stringify(recipe)) throw new RunDirError(`${out} was trained with another recipe`, { hint: 'resume with the recipe of that run' })
    if (info.data.tokensRoot !== data.tokensRoot) throw new DataMismatchError(`${out} was trained on other data (tokens root ${info.data.tokensRoot})`, { hint: `pass the data of that run: ${info.data.source}` })
    const steps = await checkpointSteps(out)
    if (steps.length === 0) throw new RunDirError(`${out} has no checkpoint to resume from`)
    state = await loadCheckpoint(out, recipe, steps[steps.length - 1])
    records = (await readRecords(out)).filter(r => r.step < state.step)
    await writeFileAtomic(join(out, 'transcript.jsonl'), records.map(formatRecord).join(''))
  } else {
    const existing = await readdir(out).catch(() => [] as string[])
    if (existing.length > 0) throw new RunDirError(`${out} is not empty`, { hint: 'choose a new --out directory, or pass --resume to continue that run' })
    await mkdir(join(out, 'checkpoints'), { recursive: true })
    await writeFileAtomic(join(out, 'run.json'), JSON.stringify({ recipe, data, startedAt: new Date().toISOString() }, null, 2) + '\n')
    await writeFile(join(out, 'transcript.jsonl'), '')
    if (params.tokenizerJson !== undefined) await writeFileAtomic(join(out, 'tokenizer.json'), Buffer.from(params.tokenizerJson))
    state = startState(recipe, params.fault, params.base)
    records = []
  }

  const tables = tablesFor(recipe.model)
  const tokensPerStep = recipe.batchSize * recipe.model.context
  const started = performance.now()
  const firstStep = state.step
  const last = Math.min(recipe.steps, params.stopAfter ?? recipe.steps)
  while (state.step < last) {
    const root = stateRootOf(state)
    if (state.step % recipe.checkpointInterval === 0) await saveCheckpoint(out, recipe, state, root)
    const step = state.step
    const loss = runStep(ctx, recipe, tokens, state, tables, params.fault, params.base)
    const record: StepRecord = { step, state: toHex(root), loss }
    records.push(record)
    await appendFile(join(out, 'transcript.jsonl'), formatRecord(record))
    const seconds = (performance.now() - started) / 1000
    const done = state.step - firstStep
    params.onStep?.({ step: state.step, steps: recipe.steps, loss, tokensPerSecond: done * tokensPerStep / seconds, etaSeconds: seconds / done * (recipe.steps - state.step) })
  }
  const root = stateRootOf(state)
  if (state.step < recipe.steps) {
    // Stopped early: leave a checkpoint to resume from.
    await saveCheckpoint(out, recipe, state, root)
    return { finalRoot: toHex(root), transcriptRoot: '0x', steps: state.step, losses: records.map(r => r.loss), records }
  }
  const evaluated = evalLoss(ctx, recipe, tokens, state, tables)
  const liesLast = params.fault?.kind === 'loss' && params.fault.step === state.step
  const final: StepRecord = { step: state.step, state: toHex(root), loss: liesLast ? (Number.isFinite(evaluated) ? evaluated + 1 : 0) : evaluated }
  records.push(final)
  await appendFile(join(out, 'transcript.jsonl'), formatRecord(final))
  await saveCheckpoint(out, recipe, state, root)
  const transcript = transcriptRootOf(records)
  const names = paramSpecs(recipe.model).map(p => p.name)
  if (params.fault?.kind === 'header') swapNames(recipe, names, params.fault.slot)
  const weights = state.params.map((t, i) => {
    if (params.fault?.kind !== 'model' || params.fault.slot !== i) return t
    const wrong = new Tensor(t.shape, Float32Array.from(t.f32))
    corruptElement(wrong, params.fault.element)
    return wrong
  })
  await writeSafetensors(join(out, 'model.safetensors'), weights.map((t, i) => [names[i], t]), modelFileMetadata(recipe, toHex(root), transcript, data.tokensRoot))
  const result: TrainResult = { finalRoot: toHex(root), transcriptRoot: transcript, steps: state.step, losses: records.map(r => r.loss), records }
  await writeFileAtomic(join(out, 'transcript.json'), JSON.stringify({ recipe: recipe.name, data, ...result }, null, 2) + '\n')
  return result
}

export interface ReplayResult {
  from: number
  checked: number
  /**
   * The first difference from the transcript, or null: a state root (kind 'state': the
   * step before it is the one to dispute) or the loss recorded for a step whose states
   * agree (kind 'loss': that step is the one to dispute). Values as hex (loss: f32 bits).
   */
  firstMismatch: { step: number, kind: 'state' | 'loss', disputeStep: number, expected: string, actual: string } | null
}

const lossHex = (loss: number): string => `0x${wordOf(loss, 'f32').toString(16).padStart(8, '0')}`

/**
 * Re-runs steps from the checkpoint at or before `from` and compares every state
 * root and loss with the transcript (the last record's loss too, when the check reaches
 * it); stops at the first difference.
 */
export async function replay (ctx: EngineContext, dir: string, tokens: Int32Array | TokenStream, options: { from?: number, steps?: number } = {}): Promise<ReplayResult> {
  const { recipe, data } = await readRunInfo(dir)
  if (dataTokensRoot(tokens) !== data.tokensRoot) throw new DataMismatchError(`the data does not match the run's tokens root ${data.tokensRoot}`, { hint: `pass the data of that run: ${data.source}` })
  const records = await readRecords(dir)
  const byStep = new Map(records.map(r => [r.step, r]))
  const available = await checkpointSteps(dir)
  const from = options.from ?? 0
  // A run shipped without checkpoints replays from S_0: a recipe trained from scratch
  // fixes it by its seed, and the transcript's first root checks it (a fine-tune's S_0
  // needs its base weights, so it needs its step-0 checkpoint).
  const start = available.filter(s => s <= from).pop() ?? (recipe.base === undefined ? 0 : undefined)
  if (start === undefined) throw new RunDirError(`no checkpoint at or before step ${from} in ${dir}`)
  const state = available.includes(start) ? await loadCheckpoint(dir, recipe, start) : initialState(recipe)
  const tables = tablesFor(recipe.model)
  const until = Math.min(recipe.steps, from + (options.steps ?? recipe.steps))
  let checked = 0
  while (state.step <= until) {
    const expected = byStep.get(state.step)
    if (expected === undefined) break
    const actual = toHex(stateRootOf(state))
    if (state.step >= from) {
      checked++
      if (actual !== expected.state) return { from: start, checked, firstMismatch: { step: state.step, kind: 'state', disputeStep: state.step - 1, expected: expected.state, actual } }
    }
    if (state.step === until) {
      // The last record's loss is an evaluation of S_T (the step program's forward part
      // on batch T): disputed over step T like any other loss.
      if (until === recipe.steps && state.step >= from) {
        const last = evalLoss(ctx, recipe, tokens, state, tables)
        if (lossHex(last) !== lossHex(expected.loss)) return { from: start, checked, firstMismatch: { step: until, kind: 'loss', disputeStep: until, expected: lossHex(expected.loss), actual: lossHex(last) } }
      }
      break
    }
    const step = state.step
    const loss = trainStep(ctx, recipe, tokens, state, tables)
    if (step >= from && lossHex(loss) !== lossHex(expected.loss)) {
      // A lie about the loss alone shows only if the next state agrees; a wrong next state comes first.
      const next = byStep.get(state.step)
      if (next !== undefined && toHex(stateRootOf(state)) === next.state) {
        return { from: start, checked, firstMismatch: { step, kind: 'loss', disputeStep: step, expected: lossHex(expected.loss), actual: lossHex(loss) } }
      }
    }
  }
  return { from: start, checked, firstMismatch: null }
}
