import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { exportGguf, exportHf, importGguf, importHf, type ExportDtype } from '@commons/models'
import { exportVersion, importTree, openStore, putRaw, putVersion, type Store } from '@commons/store'
import { parseRecipe } from '@commons/engine'
import type { CID } from 'multiformats/cid'
import writeFileAtomic from 'write-file-atomic'
import { homeOf } from '../chainContext.ts'
import { emit, UsageError, type GlobalOptions } from '../output.ts'

/**
 * A run by directory, or by the CID a node published it under (read from the local
 * store into a temporary directory that `use` may read until it returns).
 */
async function withRun<T> (options: GlobalOptions, ref: string, use: (dir: string) => Promise<T>): Promise<T> {
  if (await stat(ref).then(s => s.isDirectory(), () => false)) return use(resolve(ref))
  if (!/^(baf|Qm)/.test(ref)) {
    throw new UsageError(`"${ref}" is neither a run directory nor a run CID`, { hint: 'pass the --out directory of commons train, or the CID a job submitted' })
  }
  const store = await openStore(homeOf(options))
  const dir = await mkdtemp(join(tmpdir(), 'commons-run-'))
  try {
    await exportVersion(store, ref, dir)
    return await use(dir)
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Stores a model.safetensors as a version of its own (no parents, a fixed author and
 * time): the same weights give the same CID on every machine, and a recipe names them
 * as its `base`.
 */
async function publishWeights (store: Store, file: string, message: string): Promise<CID> {
  const { tree } = await importTree(store.blocks, file)
  return putVersion(store.blocks, { parents: [], tree, message, author: 'commons', time: 0 })
}

export function modelCommand (program: Command): void {
  const model = program.command('model').description('take trained models to the runtimes people use')
  model.command('export').argument('<run>', 'run directory (commons train --out) or the run CID a job submitted')
    .description('export a trained transformer: GGUF for llama.cpp, Ollama and LM Studio (an Ollama Modelfile beside it), or a Hugging Face folder')
    .addOption(new Option('--format <format>', 'gguf: one file; hf: a folder transformers loads (config.json, model.safetensors, tokenizer.json)').choices(['gguf', 'hf']).default('gguf'))
    .requiredOption('--out <path>', 'the file (gguf, e.g. model.gguf) or folder (hf) to write')
    .addOption(new Option('--dtype <dtype>', 'weight type of the matrices (norm gains stay f32)').choices(['f32', 'f16']).default('f32'))
    .option('--job <id>', 'the training job that produced the run, recorded in the file')
    .option('--json', 'print {path, tensors, bytes, provenance} (and modelfile for gguf, files for hf)')
    .action(async (run: string, opts: { format: 'gguf' | 'hf', out: string, dtype: ExportDtype, job?: string }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>()
      const out = resolve(opts.out)
      if (opts.format === 'hf') {
        if (opts.dtype !== 'f32') throw new UsageError('--format hf writes f32 weights', { hint: 'leave --dtype out, or use --format gguf --dtype f16' })
        const hf = await withRun(options, run, async dir => exportHf({ run: dir, out, jobId: opts.job }))
        emit(options, hf, () => `wrote ${hf.path}/ (${hf.files.join(', ')}; ${(hf.bytes / 1e6).toFixed(1)} MB)`)
        return
      }
      const result = await withRun(options, run, async dir => exportGguf({ run: dir, out, dtype: opts.dtype, jobId: opts.job }))
      emit(options, result, () => [
        `wrote ${result.path} (${result.tensors} tensors, ${(result.bytes / 1e6).toFixed(1)} MB, ${opts.dtype})`,
        `      ${result.modelfile}: ollama create NAME -f ${result.modelfile}`,
        `      state root ${result.provenance.stateRoot}, transcript root ${result.provenance.transcriptRoot}`
      ].join('\n'))
    })

  model.command('import').argument('<source>', 'a llama-architecture GGUF file (F32 or F16), or a Hugging Face LlamaForCausalLM folder (F32, F16 or BF16); a byte-level BPE vocabulary')
    .description('import an open model as Commons weights: a folder with model.safetensors, tokenizer.json and a fine-tuning recipe.json whose base is the weights, stored by CID in the home')
    .requiredOption('--out <dir>', 'the folder to write')
    .option('--json', 'print {dir, recipe, base, stateRoot, tokenizer, parameters}')
    .action(async (source: string, opts: { out: string }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>()
      const isDir = await stat(source).then(s => s.isDirectory(), () => false)
      const result = isDir ? await importHf({ dir: resolve(source), out: resolve(opts.out) }) : await importGguf({ file: resolve(source), out: resolve(opts.out) })
      // The tokenizer and the weights go into the store by CID, so a fine-tuning recipe
      // naming them trains (or is posted as a job, served to trainers) from here at once.
      const store = await openStore(homeOf(options))
      let base: string
      try {
        if (result.tokenizer !== 'byte') await putRaw(store.blocks, await readFile(join(result.dir, 'tokenizer.json')))
        base = (await publishWeights(store, join(result.dir, 'model.safetensors'), `base model imported from ${basename(source)}`)).toString()
      } finally {
        await store.close()
      }
      const recipe = parseRecipe({ ...result.recipe, base }, 'the imported recipe')
      await writeFileAtomic(join(result.dir, 'recipe.json'), JSON.stringify(recipe, null, 2) + '\n')
      emit(options, { ...result, recipe, base }, () => [
        `imported ${(result.parameters / 1e6).toFixed(2)}M parameters into ${result.dir}`,
        `      tokenizer ${result.tokenizer}; base weights ${base}; S_0 root ${result.stateRoot}`,
        `      fine-tune: commons train ${join(result.dir, 'recipe.json')} --data DATA --out RUN  (or post it as a job)`,
        `      commons generate ${result.dir} "..."  |  commons model export ${result.dir} --format hf --out DIR`
      ].join('\n'))
    })
}
