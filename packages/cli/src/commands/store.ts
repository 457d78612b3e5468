import { resolve } from 'node:path'
import type { Command } from 'commander'
import { compactStore, defaultHome, openStore } from '@commons/store'
import { emit, formatBytes, progress, progressDone, type GlobalOptions } from '../output.ts'
import { numberOption } from '../optionParsers.ts'

/** `commons store`: the home's block store itself (pack files and their index). */
export function storeCommand (program: Command): void {
  const store = program.command('store').description('the home\'s block store: pack files and their index')

  store.command('compact')
    .description('rewrite the live blocks of pack files with dead space (deleted blocks, bytes a crash left) into new packs, freeing the rest; safe to interrupt')
    .option('--min-dead <share>', 'rewrite a pack when at least this share of it is dead (0 to 1)', numberOption('--min-dead', { max: 1 }), 0.2)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { minDead: number }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>()
      const opened = await openStore(resolve(options.home ?? defaultHome()))
      let result
      try {
        result = await compactStore(opened, {
          minDeadShare: opts.minDead,
          onProgress: p => { if (p.stage === 'removed') progress(options, `compacted ${p.index + 1} / ${p.packs} packs, ${formatBytes(p.copiedBytes)} copied`) }
        })
      } finally {
        progressDone(options)
        await opened.close()
      }
      emit(options, result, () => [
        `compacted ${result.compacted} of ${result.packs} packs: ${formatBytes(result.reclaimedBytes)} freed, ${result.movedBlocks} blocks (${formatBytes(result.copiedBytes)}) moved`,
        `live ${formatBytes(result.liveBytes)}, dead before ${formatBytes(result.deadBytes)}`,
        ...(result.busy > 0 ? [`${result.busy} packs left alone: a running process (a node?) still writes to them`] : [])
      ].join('\n'))
    })
}
