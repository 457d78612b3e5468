import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { evaluateFrom, openingsFor, tensorRoot, tensorRoots, tensorsRoot, toHex, wordOf } from '@commons/protocol'
import { dataTokensRoot, opInputs, readRunInfo, replay, runStateAt, Tensor, traceStep, train, openBackend, BACKENDS, RunDirError, type GenerateResult, type Recipe } from '@commons/engine'
import { listSourceFiles, loadTokenizer, openStore, openTokenStream, putRaw, tokenizeVersion, PathNotFoundError, type StoredTokenStream } from '@commons/store'
import { baseWeightsOf } from '@commons/chain'
import { homeOf } from '../chainContext.ts'
import { emit, formatBytes, note, progress, progressDone, type GlobalOptions } from '../output.ts'
import { readCheckedRecipe } from '../recipeLimits.ts'
import { runInterruptible } from '../interruptible.ts'
import { numberOption, wholeOption } from '../optionParsers.ts'

/** Most tokens one `generate` makes: each is a forward pass over the context. */
export const MAX_GENERATE_TOKENS = 10_000

/** Whether `dir` is missing or empty, so a failed new run can remove what it wrote. */
const isFresh = async (dir: string): Promise<boolean> => (await readdir(dir).catch(() => [] as string[])).length === 0

/**
 * Training data from a local file or directory (bytes of every file, in path order,
 * as a committed version would give), or from a dataset version CID in the store.
 */
/** Each file on its own, in path order, as a committed version is tokenized. */
async function encodeFiles (files: Array<{ absolute: string }>, encode: (bytes: Uint8Array) => Int32Array): Promise<Int32Array> {
  const parts = await Promise.all(files.map(async file => encode(await readFile(file.absolute))))
  const tokens = new Int32Array(parts.reduce((n, p) => n + p.length, 0))
  parts.reduce((at, p) => { tokens.set(p, at); return at + p.length }, 0)
  return tokens
}

export async function loadTokens (options: GlobalOptions, ref: string, tokenizer?: string, runDir?: string): Promise<{ tokens: Int32Array, source: string, tokenizerJson?: Uint8Array }>
export async function loadTokens (options: GlobalOptions, ref: string, tokenizer: string, runDir: string | undefined, stream: true): Promise<{ tokens: Int32Array | StoredTokenStream, source: string, tokenizerJson?: Uint8Array }>
/**
 * With `stream`, a version's tokens come as its stored token stream (openTokenStream),
 * read by windows: training and replay of a dataset larger than memory. Close it after.
 */
export async function loadTokens (options: GlobalOptions, ref: string, tokenizer = 'byte', runDir?: string, stream = false): Promise<{ tokens: Int32Array | StoredTokenStream, source: string, tokenizerJson?: Uint8Array }> {
  const isPath = await stat(ref).then(() => true, () => false)
  if (!isPath && !/^(baf|Qm)/.test(ref)) {
    throw new PathNotFoundError(`training data "${ref}" is neither a file, a directory nor a version CID`, { hint: 'pass --data PATH, or a CID from commons dataset log' })
  }
  // Bytes from files need no store (the home may not exist yet).
  if (isPath && tokenizer === 'byte') return { tokens: await encodeFiles(await listSourceFiles(ref), bytes => Int32Array.from(bytes)), source: resolve(ref) }
  const store = await openStore(homeOf(options))
  try {
    // A run keeps its BPE's tokenizer.json: it stands for the tokenizer's CID when this home lacks it.
    if (tokenizer !== 'byte' && runDir !== undefined) {
      const kept = await readFile(join(runDir, 'tokenizer.json')).catch(() => null)
      if (kept !== null && (await putRaw(store.blocks, kept)).toString() !== tokenizer) throw new RunDirError(`${runDir}/tokenizer.json is not the recipe's tokenizer ${tokenizer}`)
    }
    const encoder = await loadTokenizer(store.blocks, tokenizer)
    const tokenizerJson = encoder.json ?? undefined
    if (!isPath && stream) {
      const tokens = await openTokenStream(store, ref, tokenizer, {
        onProgress: (count, done, total) => { progress(options, `tokenizing ${formatBytes(done)} / ${formatBytes(total)}: ${count} tokens`) }
      })
      progressDone(options)
      return { tokens, source: ref, tokenizerJson }
    }
    if (!isPath) return { tokens: (await tokenizeVersion(store, ref, tokenizer)).tokens, source: ref, tokenizerJson }
    return { tokens: await encodeFiles(await listSourceFiles(ref), encoder.encode), source: resolve(ref), tokenizerJson }
  } finally {
    await store.close()
  }
}

function closeTokens (tokens: Int32Array | StoredTokenStream): void {
  if (!(tokens instanceof Int32Array)) tokens.close()
}

/** A fine-tuning recipe's base weights, from the model folder its `base` CID names in this home's store. */
export async function loadBase (options: GlobalOptions, recipe: Recipe): Promise<Tensor[] | undefined> {
  if (recipe.base === undefined) return undefined
  const store = await openStore(homeOf(options))
  try {
    return await baseWeightsOf(store.blocks, recipe)
  } catch (cause) {
    throw new RunDirError(`the base model ${recipe.base} of recipe ${recipe.name} is not readable from ${store.home}`, {
      hint: 'import it first (commons model import ... --publish) or fetch it from a node that holds it', cause
    })
  } finally {
    await store.close()
  }
}


/** What `commons trace` prints of one step (its tokens open for the caller to close). */
async function traceCommand (options: GlobalOptions, dir: string, info: Awaited<ReturnType<typeof readRunInfo>>, tokens: Int32Array | StoredTokenStream, opts: { step: number, op?: number, element: number, backend: string }): Promise<void> {
  const weights = await loadBase(options, info.recipe)
  const backend = openBackend(opts.backend, 2)
  let trace: ReturnType<typeof traceStep>
  try {
    trace = traceStep(backend.ctx, info.recipe, tokens, await runStateAt(backend.ctx, dir, tokens, opts.step), { base: weights })
  } finally {
    await backend.close()
  }
  const { program, outputs } = trace
  const roots = tensorRoots(outputs).map(toHex)
  const base = { step: opts.step, programHash: program.hash, header: program.header, ops: program.step.length, traceRoot: toHex(tensorsRoot(outputs)) }
  if (opts.op === undefined) {
    const ops = program.step.map((op, i) => ({ index: i, code: op.code, dims: op.dims, root: roots[i] }))
    emit(options, { ...base, roots: ops }, () => [
      `step ${opts.step}: ${ops.length} ops, program ${program.hash}`,
      `trace root ${base.traceRoot}`,
      ...ops.map(o => `${String(o.index).padStart(5)}  code ${String(o.code).padStart(2)}  [${o.dims.join(', ')}]  ${o.root}`)
    ].join('\n'))
    return
  }
  if (opts.op >= program.step.length) throw new RunDirError(`the step program has ${program.step.length} ops; there is no op ${opts.op}`)
  const op = program.step[opts.op]
  if (opts.element >= outputs[opts.op].size) throw new RunDirError(`op ${opts.op} has ${outputs[opts.op].size} elements; there is no element ${opts.element}`)
  const inputs = opInputs(op, trace, tokens)
  const ctx = { seed: info.recipe.seed, step: opts.step }
  const proofs = openingsFor(op, opts.element, ctx, inputs)
  const value = wordOf(outputs[opts.op].data[opts.element], op.dtype)
  const detail = {
    ...base, op: opts.op, code: op.code, dims: op.dims, attrs: op.attrs, element: opts.element,
    value: `0x${value.toString(16).padStart(8, '0')}`, recomputed: `0x${wordOf(evaluateFrom(op, opts.element, ctx, inputs), op.dtype).toString(16).padStart(8, '0')}`,
    inputs: op.inputs.map((r, i) => ({ ...r, root: r.kind === 'tokens' ? dataTokensRoot(tokens) : toHex(tensorRoot(inputs[i] as Tensor)), proof: proofs[i] === null ? null : { ...proofs[i], siblings: proofs[i]?.siblings.map(toHex) } }))
  }
  emit(options, detail, () => [
    `step ${opts.step}, op ${opts.op} (code ${op.code}, [${op.dims.join(', ')}]), element ${opts.element}: ${detail.value} (recomputed ${detail.recomputed})`,
    ...detail.inputs.map((input, i) => `input ${i}: ${input.kind} ${input.index} ${input.root}${input.proof === null ? '' : `, reads leaves ${input.proof.firstLeaf}..${input.proof.firstLeaf + input.proof.words.length / 8 - 1} (${input.proof.siblings?.length ?? 0} siblings)`}`)
  ].join('\n'))
}

export function trainCommands (program: Command): void {
  program.command('train').argument('<recipe>', 'recipe JSON (see recipes/)')
    .description('train a recipe deterministically, recording a state root per step')
    .requiredOption('--data <path|cid>', 'training data: a file, a directory, or a dataset version CID')
    .requiredOption('--out <dir>', 'new directory for checkpoints, transcript and weights')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--backend <name>', `compute backend: ${BACKENDS.join(', ')} (same results, different speed; auto: native where built, else wasm)`, 'auto')
    .option('--threads <n>', 'threads for the wasm backend', wholeOption('--threads'), 2)
    .option('--json', 'print {finalRoot, transcriptRoot, steps, losses}')
    .action(async (recipePath: string, opts: { data: string, out: string, resume?: boolean, backend: string, threads: number }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>()
      const recipe = await readCheckedRecipe(recipePath)
      const { tokens, source, tokenizerJson } = await loadTokens(options, opts.data, recipe.tokenizer, undefined, true)
      const base = await loadBase(options, recipe).catch((error: unknown) => { closeTokens(tokens); throw error })
      const backend = openBackend(opts.backend, opts.threads)
      note(options, `training ${recipe.name} on ${tokens.length} tokens from ${source}`)
      const out = resolve(opts.out)
      // A new run that fails before its first step leaves nothing behind; a run that has
      // trained steps keeps its checkpoints, for --resume.
      const fresh = opts.resume !== true && await isFresh(out)
      let stepsDone = 0
      let result: Awaited<ReturnType<typeof train>>
      try {
        result = await train(backend.ctx, {
          recipe,
          tokens,
          data: { source },
          out,
          tokenizerJson,
          base,
          resume: opts.resume === true,
          onStep: p => {
            stepsDone++
            progress(options, `step ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}  ${p.tokensPerSecond.toFixed(0)} tokens/s  ETA ${Math.ceil(p.etaSeconds)} s`)
            if (!process.stderr.isTTY && options.json !== true && (p.step % 50 === 0 || p.step === p.steps)) note(options, `step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)}`)
          }
        })
      } catch (error) {
        if (fresh && stepsDone === 0) await rm(out, { recursive: true, force: true })
        throw error
      } finally {
        closeTokens(tokens)
        await backend.close()
      }
      progressDone(options)
      emit(options, { finalRoot: result.finalRoot, transcriptRoot: result.transcriptRoot, steps: result.steps, losses: result.losses }, () => [
        `trained ${result.steps} steps; loss ${result.losses[0]?.toFixed(4)} -> ${result.losses.at(-1)?.toFixed(4)}`,
        `final state root ${result.finalRoot}`,
        `transcript root  ${result.transcriptRoot}`,
        `weights, checkpoints and transcript in ${resolve(opts.out)}`
      ].join('\n'))
    })

  program.command('replay').argument('<dir>', 'run directory written by commons train')
    .description('re-run steps from a checkpoint and compare each state root with the transcript')
    .option('--from <step>', 'first step to check', wholeOption('--from'), 0)
    .option('--steps <k>', 'how many steps to check (default: to the end)', wholeOption('--steps'))
    .option('--data <path|cid>', 'training data (default: the source recorded in the run)')
    .option('--backend <name>', `compute backend: ${BACKENDS.join(', ')}`, 'auto')
    .option('--threads <n>', 'threads for the wasm backend', wholeOption('--threads'), 2)
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: { from: number, steps?: number, data?: string, backend: string, threads: number }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>()
      const info = await readRunInfo(dir)
      if (opts.from > info.recipe.steps) {
        throw new RunDirError(`--from ${opts.from} is past the run's last state (step ${info.recipe.steps})`, { hint: `pass --from between 0 and ${info.recipe.steps}`, details: { from: opts.from, steps: info.recipe.steps } })
      }
      const { tokens } = await loadTokens(options, opts.data ?? info.data.source, info.recipe.tokenizer, dir, true)
      const backend = openBackend(opts.backend, opts.threads)
      const result = await replay(backend.ctx, dir, tokens, { from: opts.from, steps: opts.steps }).finally(async () => { closeTokens(tokens); await backend.close() })
      // Checking nothing is not a match: the transcript has no record from --from on.
      if (result.checked === 0) throw new RunDirError(`the transcript of ${dir} has no state at step ${opts.from} or later to check`, { hint: 'the run may be unfinished: finish it with commons train --resume, or pass an earlier --from' })
      emit(options, result, () => result.firstMismatch === null
        ? `ok: ${result.checked} state roots match the transcript (replayed from the checkpoint at step ${result.from})`
        : `MISMATCH at step ${result.firstMismatch.step}: transcript ${result.firstMismatch.expected}, recomputed ${result.firstMismatch.actual}`)
      if (result.firstMismatch !== null) process.exitCode = 1
    })

  program.command('trace').argument('<dir>', 'run directory written by commons train')
    .description('one step as the step program: every op\'s output root, and for --op/--element the value, the inputs it reads and their proofs')
    .requiredOption('--step <t>', 'the step to trace (from the checkpoint at or before it)', wholeOption('--step'))
    .option('--op <i>', 'an op of the step program', wholeOption('--op'))
    .option('--element <e>', 'an output element of that op', wholeOption('--element'), 0)
    .option('--data <path|cid>', 'training data (default: the source recorded in the run)')
    .option('--backend <name>', `compute backend: ${BACKENDS.join(', ')}`, 'auto')
    .option('--json', 'print as JSON')
    .action(async (dir: string, opts: { step: number, op?: number, element: number, data?: string, backend: string }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>()
      const info = await readRunInfo(dir)
      if (opts.step >= info.recipe.steps) throw new RunDirError(`step ${opts.step} is past the run's last step (${info.recipe.steps - 1})`, { hint: 'pass --step between 0 and steps - 1' })
      // A version's stored stream, read by windows: the step's batch, and an opening's
      // slice with its proof (windowProofs), never the whole tokens tensor.
      const { tokens } = await loadTokens(options, opts.data ?? info.data.source, info.recipe.tokenizer, dir, true)
      try {
        await traceCommand(options, dir, info, tokens, opts)
      } finally {
        closeTokens(tokens)
      }
    })

  program.command('generate').argument('<dir>', 'run directory written by commons train').argument('<prompt>', 'text to continue')
    .description('continue a prompt with trained weights (greedy, or sampled with --seed)')
    .option('--tokens <n>', `tokens to generate (at most ${MAX_GENERATE_TOKENS})`, wholeOption('--tokens', { min: 1, max: MAX_GENERATE_TOKENS }), 100)
    .option('--seed <s>', 'sample with this seed instead of greedy decoding', wholeOption('--seed'))
    .option('--temperature <t>', 'sampling temperature', numberOption('--temperature', { above: 0 }), 1)
    .option('--top-k <k>', 'sample only among the k most likely tokens', wholeOption('--top-k', { min: 1 }))
    .option('--top-p <p>', 'sample only among the most likely tokens that make up probability p', numberOption('--top-p', { above: 0, max: 1 }))
    .option('--recompute', 'recompute the whole window per token instead of the key/value cache (same tokens, slower)')
    .option('--json', 'print {prompt, text, tokens, tokensPerSecond} (no streaming)')
    .action(async (dir: string, prompt: string, opts: { tokens: number, seed?: number, temperature: number, topK?: number, topP?: number, recompute?: boolean }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>()
      const weights = resolve(dir, 'model.safetensors')
      if (!await stat(weights).then(s => s.isFile(), () => false)) {
        throw new RunDirError(`${dir} has no trained weights (model.safetensors)`, { hint: 'finish the run with commons train (or --resume)', details: { dir } })
      }
      // An empty prompt starts at a line break, the boundary between rows of a corpus.
      const start = prompt === '' ? '\n' : prompt
      // In a worker, so Ctrl-C stops a long generation at once (the loop never yields).
      // People see the text as it is made; scripts get one JSON object at the end.
      const stream = options.json !== true
      if (stream) process.stdout.write(prompt)
      const out = await runInterruptible<GenerateResult>(new URL('../generateWorker.ts', import.meta.url), { dir: resolve(dir), prompt: start, options: opts, stream },
        bytes => { process.stdout.write(bytes as Uint8Array) })
      if (stream) process.stdout.write('\n')
      else emit(options, { prompt, text: out.text, tokens: out.tokens, tokensPerSecond: Number(out.tokensPerSecond.toFixed(2)) }, () => '')
    })
}
