import type { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { listFiles } from './listFiles.ts'
import { readFileBytes } from './readFileContent.ts'
import { resolveVersion } from './resolveVersion.ts'
import { readVersion } from './version.ts'
import { UnknownTokenizerError } from './errors.ts'

export const TOKENIZERS = ['byte'] as const
export type TokenizerName = typeof TOKENIZERS[number]

export interface TokenizeResult {
  cid: CID
  tokenizer: TokenizerName
  /** The training stream: every file of the version in path order. */
  tokens: Int32Array
  files: number
}

/**
 * Turns a version into the i32 token stream a training job reads. Deterministic:
 * files in byte order of their paths, each file's tokens in order, nothing between.
 * The byte tokenizer maps each byte to its value (vocabulary 256).
 */
export async function tokenizeVersion (store: Store, ref: string, tokenizer: string): Promise<TokenizeResult> {
  if (!(TOKENIZERS as readonly string[]).includes(tokenizer)) {
    throw new UnknownTokenizerError(`unknown tokenizer "${tokenizer}"`, {
      hint: `choose one of: ${TOKENIZERS.join(', ')}`, details: { tokenizer }
    })
  }
  const cid = await resolveVersion(store, ref)
  const files = await listFiles(store.blocks, (await readVersion(store.blocks, cid)).tree)
  const tokens = new Int32Array(files.reduce((sum, f) => sum + f.size, 0))
  let offset = 0
  for (const file of files) {
    const bytes = await readFileBytes(store.blocks, file.cid)
    tokens.set(bytes, offset)
    offset += bytes.length
  }
  return { cid, tokenizer: tokenizer as TokenizerName, tokens, files: files.length }
}
