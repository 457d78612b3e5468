import { resolve } from 'node:path'
import { InvalidArgumentError as InvalidArgument, type Command } from 'commander'
import {
  commitVersion, diffVersions, exportCar, exportVersion, importCar, forkDataset, initDataset, scanDatasets, logDataset,
  openStore, showVersion, statDataset, streamTokens, verifyVersion, defaultHome, MAX_COMMIT_TIME, type Store
} from '@commons/store'
import { emit, formatBytes, note, progress, progressDone, UsageError, type GlobalOptions } from '../output.ts'
import { wholeOption } from '../optionParsers.ts'

/** Opens the store of `--home` for one command and closes it afterwards. */
async function withStore<T> (options: GlobalOptions, run: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(resolve(options.home ?? defaultHome()))
  try {
    return await run(store)
  } finally {
    await store.close()
  }
}

function globals (command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>()
}

/** A commit time as a date; a time no date can show (written by an older commons) prints as its number. */
const date = (seconds: number): string => {
  const d = new Date(seconds * 1000)
  return Number.isNaN(d.getTime()) ? `${seconds} (Unix seconds, past any date)` : d.toISOString()
}

export function datasetCommand (program: Command): void {
  const dataset = program.command('dataset').description('versioned, forkable datasets in content-addressed storage')

  dataset.command('init').argument('<name>', 'dataset name')
    .description('create an empty dataset')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, _opts, command: Command) => {
      const options = globals(command)
      const ref = await withStore(options, store => initDataset(store, name))
      emit(options, ref, () => `initialized dataset "${name}"`)
    })

  dataset.command('list')
    .description('list the datasets of this home')
    .option('--json', 'print the result as JSON')
    .action(async (_opts, command: Command) => {
      const options = globals(command)
      const { datasets: refs, damaged } = await withStore(options, store => scanDatasets(store))
      emit(options, refs, () => refs.length === 0 && damaged.length === 0
        ? 'no datasets yet; run commons dataset init NAME'
        : refs.map(r => `${r.name.padEnd(24)} ${r.head?.toString() ?? '(no versions)'}${r.forkOf !== undefined ? `  (fork of ${r.forkOf.name})` : ''}`).join('\n'))
      // The damaged ones go to stderr (so --json stays the list) and fail the command.
      for (const d of damaged) process.stderr.write(`error: dataset "${d.name}" cannot be read (${d.error}): ${d.message}\n`)
      if (damaged.length > 0) {
        process.stderr.write('hint: restore or delete the damaged ref files under datasets/ of the home\n')
        process.exitCode = 1
      }
    })

  dataset.command('commit').argument('<name>', 'dataset name').argument('<path>', 'file or directory to snapshot')
    .description('store a file or directory as the next version; prints the version CID')
    .requiredOption('-m, --message <message>', 'what this version changes')
    .option('--author <author>', 'author (default: $COMMONS_AUTHOR, else the OS user)')
    .option('--time <seconds>', 'commit time in Unix seconds (default: $SOURCE_DATE_EPOCH, else now)', parseSeconds)
    .option('--cid-compat', 'cut files as ipfs add --cid-version=1 does (256 KiB chunks), so each file has the CID ipfs add prints; edits then rewrite more blocks (docs/network.md)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, path: string, opts: { message: string, author?: string, time?: number, cidCompat?: boolean }, command: Command) => {
      const options = globals(command)
      const started = performance.now()
      const result = await withStore(options, store => commitVersion(store, {
        name,
        path,
        message: opts.message,
        author: opts.author,
        time: opts.time,
        layout: opts.cidCompat === true ? 'ipfs-add' : undefined,
        onProgress: (done, total) => { progress(options, `importing ${formatBytes(done)} / ${formatBytes(total)}`) }
      }))
      progressDone(options)
      const seconds = (performance.now() - started) / 1000
      note(options, `committed ${result.files} files (${formatBytes(result.bytes)}) to "${name}" in ${seconds.toFixed(1)} s`)
      emit(options, { cid: result.cid, ...result.version, files: result.files, bytes: result.bytes }, () => result.cid.toString())
    })

  dataset.command('log').argument('<name>', 'dataset name')
    .description('list the versions of a dataset, newest first')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, _opts, command: Command) => {
      const options = globals(command)
      const log = await withStore(options, store => logDataset(store, name))
      emit(options, log.map(e => ({ cid: e.cid, ...e.version })), () => log.map(e =>
        `version ${e.cid}\nauthor  ${e.version.author}\ndate    ${date(e.version.time)}\n\n    ${e.version.message}\n`).join('\n'))
    })

  dataset.command('show').argument('<version>', 'version CID, or a dataset name for its head')
    .description('show a version and its files')
    .option('--json', 'print the result as JSON')
    .action(async (ref: string, _opts, command: Command) => {
      const options = globals(command)
      const shown = await withStore(options, store => showVersion(store, ref))
      emit(options, { cid: shown.cid, ...shown.version, bytes: shown.bytes, files: shown.files }, () => [
        `version ${shown.cid}`,
        `parents ${shown.version.parents.map(String).join(' ') || '(none)'}`,
        `tree    ${shown.version.tree}`,
        `author  ${shown.version.author}`,
        `date    ${date(shown.version.time)}`,
        '',
        `    ${shown.version.message}`,
        '',
        `${shown.files.length} files, ${formatBytes(shown.bytes)}:`,
        ...shown.files.map(f => `  ${formatBytes(f.size).padStart(10)}  ${f.path}`)
      ].join('\n'))
    })

  dataset.command('diff').argument('<name>', 'dataset name (for messages)').argument('<a>', 'older version').argument('<b>', 'newer version')
    .description('files added, removed and changed between two versions, and rows/lines for text')
    .option('--sample <n>', 'added and removed rows to show per file', wholeOption('--sample'), 5)
    .option('--json', 'print the result as JSON')
    .action(async (name: string, a: string, b: string, opts: { sample: number }, command: Command) => {
      const options = globals(command)
      const diff = await withStore(options, async store => {
        await logDataset(store, name) // the dataset must exist and have versions
        return diffVersions(store, a, b, opts.sample)
      })
      emit(options, diff, () => {
        const mark = { added: 'A', removed: 'D', changed: 'M' } as const
        const lines = diff.files.flatMap(f => [
          `${mark[f.status]} ${f.path}  ${f.kind === 'binary' ? `binary, ${formatBytes(f.bytesBefore)} -> ${formatBytes(f.bytesAfter)}` : `+${f.added} -${f.removed} ${f.kind}`}`,
          ...f.addedSample.map(r => `    + ${clip(r)}`),
          ...f.removedSample.map(r => `    - ${clip(r)}`)
        ])
        const totals = diff.files.reduce((t, f) => ({ added: t.added + f.added, removed: t.removed + f.removed }), { added: 0, removed: 0 })
        return [...lines, `${diff.files.length} files changed, ${diff.unchanged} unchanged; ${totals.added} rows/lines added, ${totals.removed} removed`].join('\n')
      })
    })

  dataset.command('fork').argument('<name>', 'dataset to fork').argument('<new>', 'name of the new dataset')
    .description('start a new dataset from a version of another (nothing is copied)')
    .option('--at <cid>', 'version to fork from (default: the head)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, newName: string, opts: { at?: string }, command: Command) => {
      const options = globals(command)
      const ref = await withStore(options, store => forkDataset(store, name, newName, opts.at))
      emit(options, ref, () => `forked "${name}" at ${ref.head} as "${newName}"`)
    })

  dataset.command('export').argument('<version>', 'version CID, or a dataset name for its head').argument('[dir]', 'new directory to write')
    .description('write the files of a version to a new directory, or its whole DAG to a CAR file (every block hash-checked)')
    .option('--car <file>', 'write a CARv1 file (for ipfs dag import and pinning services) instead of files')
    .option('--json', 'print the result as JSON')
    .action(async (ref: string, dir: string | undefined, opts: { car?: string }, command: Command) => {
      const options = globals(command)
      if ((dir === undefined) === (opts.car === undefined)) {
        throw new UsageError('give either a directory or --car FILE', {
          hint: 'commons dataset export CID ./out writes files; commons dataset export CID --car out.car writes a CAR'
        })
      }
      if (opts.car !== undefined) {
        const car = opts.car
        const result = await withStore(options, store => exportCar(store, ref, car, {
          onProgress: (blocks, bytes) => { progress(options, `writing ${blocks} blocks, ${formatBytes(bytes)}`) }
        }))
        progressDone(options)
        emit(options, result, () => `exported ${result.root} (${result.blocks} blocks, ${formatBytes(result.bytes)}) to ${result.file}`)
        return
      }
      const target = dir as string
      const result = await withStore(options, store => exportVersion(store, ref, target))
      emit(options, result, () => `exported ${result.files} files (${formatBytes(result.bytes)}) to ${result.dir}`)
    })

  dataset.command('import').argument('<file>', 'a CAR file (v1 or v2)')
    .description('store the blocks of a CAR file, each checked against its CID; prints its roots')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, _opts, command: Command) => {
      const options = globals(command)
      const result = await withStore(options, store => importCar(store, file, {
        onProgress: (blocks, bytes) => { progress(options, `reading ${blocks} blocks, ${formatBytes(bytes)}`) }
      }))
      progressDone(options)
      note(options, `imported ${result.blocks} blocks (${formatBytes(result.bytes)})` +
        (result.missing > 0 ? `; ${result.missing} blocks under the roots are not held (a partial CAR)` : ''))
      emit(options, result, () => result.roots.map(String).join('\n'))
    })

  dataset.command('stat').argument('<name>', 'dataset name')
    .description('versions and sizes: logical (every version in full) and stored (deduplicated)')
    .option('--json', 'print {versions, logicalBytes, storedBytes, reachableBytes}')
    .action(async (name: string, _opts, command: Command) => {
      const options = globals(command)
      const stats = await withStore(options, store => statDataset(store, name))
      emit(options, stats, () => [
        `versions         ${stats.versions}`,
        `logical size     ${formatBytes(stats.logicalBytes)}  (every version in full)`,
        `reachable blocks ${formatBytes(stats.reachableBytes)}  (${(stats.reachableBytes / Math.max(1, stats.logicalBytes) * 100).toFixed(1)}% of logical)`,
        `blockstore       ${formatBytes(stats.storedBytes)}  (on disk, all datasets of this home)`
      ].join('\n'))
    })

  dataset.command('verify').argument('<version>', 'version CID, or a dataset name for its head')
    .description('re-hash every block reachable from a version; exit 1 if any is damaged or missing')
    .option('--json', 'print the result as JSON')
    .action(async (ref: string, _opts, command: Command) => {
      const options = globals(command)
      const result = await withStore(options, store => verifyVersion(store, ref, {
        onProgress: (blocks, bytes) => { progress(options, `verifying: ${blocks} blocks, ${formatBytes(bytes)} intact`) }
      }))
      progressDone(options)
      emit(options, result, () => result.ok
        ? `ok: ${result.blocks} blocks (${formatBytes(result.bytes)}) match their hashes`
        : [
            `damaged: ${result.corrupt.length} corrupt and ${result.missing.length} missing blocks (${result.blocks} intact)`,
            ...result.corrupt.map(c => `  corrupt ${c}`),
            ...result.missing.map(c => `  missing ${c}`)
          ].join('\n'))
      if (!result.ok) process.exitCode = 1
    })

  dataset.command('tokens').argument('<version>', 'version CID, or a dataset name for its head')
    .description('tokenize a version into the i32 training stream, in bounded memory; prints its length and tokens root')
    .option('--tokenizer <name>', 'tokenizer', 'byte')
    .option('--out <file>', 'write the tokens as little-endian int32 to this file')
    .option('--json', 'print the result as JSON')
    .action(async (ref: string, opts: { tokenizer: string, out?: string }, command: Command) => {
      const options = globals(command)
      const result = await withStore(options, store => streamTokens(store, ref, opts.tokenizer, {
        out: opts.out,
        onProgress: (tokens, done, total) => { progress(options, `tokenizing ${formatBytes(done)} / ${formatBytes(total)}: ${tokens} tokens`) }
      }))
      progressDone(options)
      emit(options, { cid: result.cid, tokenizer: result.tokenizer, tokens: result.tokens, tokensRoot: result.tokensRoot, files: result.files, out: opts.out }, () =>
        `${result.tokens} tokens (${result.tokenizer}) from ${result.files} files, tokens root ${result.tokensRoot}${opts.out !== undefined ? `, written to ${opts.out}` : ''}`)
    })
}

function clip (text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}

function parseSeconds (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > MAX_COMMIT_TIME) throw new InvalidArgument(`--time must be whole seconds from 0 (1970) to ${MAX_COMMIT_TIME} (the year 9999), got "${value}"`)
  return n
}

