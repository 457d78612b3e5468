import { resolve } from 'node:path'
import type { Command } from 'commander'
import writeFileAtomic from 'write-file-atomic'
import { BpeTokenizer, tokenizerFile, trainBpe } from '@commons/tokenizer'
import { openStore, putRaw } from '@commons/store'
import { homeOf } from '../chainContext.ts'
import { emit, progress, progressDone, type GlobalOptions } from '../output.ts'
import { loadTokens } from './train.ts'
import { wholeOption } from '../optionParsers.ts'

export function tokenizerCommand (program: Command): void {
  const tokenizer = program.command('tokenizer').description('byte-level BPE tokenizers, trained deterministically on a dataset')
  tokenizer.command('train').argument('<data>', 'a dataset version CID (or name), a file or a directory')
    .description('learn a byte-level BPE; writes a standard tokenizer.json and stores it by CID')
    .requiredOption('--vocab <n>', 'tokens in the vocabulary (256 bytes + merges)', wholeOption('--vocab', { min: 256, max: 65536 }))
    .requiredOption('--out <file>', 'tokenizer.json to write')
    .option('--json', 'print {cid, path, vocab, merges, bytes, tokens}')
    .action(async (data: string, opts: { vocab: number, out: string }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>()
      const { tokens } = await loadTokens(options, data)
      const bytes = Uint8Array.from(tokens)
      const bpe = trainBpe(bytes, opts.vocab, { onMerge: (done, total) => { if (done % 50 === 0) progress(options, `merges ${done}/${total}`) } })
      progressDone(options)
      const file = tokenizerFile(bpe)
      const path = resolve(opts.out)
      await writeFileAtomic(path, file)
      const store = await openStore(homeOf(options))
      const cid = await putRaw(store.blocks, file).finally(async () => store.close())
      const trained = new BpeTokenizer(bpe)
      const count = trained.encode(bytes).length
      const result = { cid: cid.toString(), path, vocab: trained.vocab, merges: bpe.merges.length, bytes: bytes.length, tokens: count }
      emit(options, result, () => `${result.cid}\n      ${path}: ${result.vocab} tokens; ${result.bytes} bytes → ${count} tokens (${(result.bytes / count).toFixed(2)} bytes per token)`)
    })
}
