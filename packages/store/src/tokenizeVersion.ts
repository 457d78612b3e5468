import { CID } from 'multiformats/cid'
import { BpeTokenizer, parseTokenizerJson } from '@commons/tokenizer'
import { getVerifiedBlock, type BlockReader } from './blocks.ts'
import type { Store } from './store.ts'
import { listFiles } from './listFiles.ts'
import { readFileBytes } from './readFileContent.ts'
import { resolveVersion } from './resolveVersion.ts'
import { readVersion } from './version.ts'
import { UnknownTokenizerError } from './errors.ts'

/** The built-in tokenizer; any other is a BPE named by the CID of its tokenizer.json. */
export const TOKENIZERS = ['byte'] as const

export interface TokenizeResult {
  cid: CID
  /** 'byte', or the tokenizer.json CID. */
  tokenizer: string
  /** The training stream: every file of the version in path order. */
  tokens: Int32Array
  files: number
  /** The tokenizer.json of a BPE (to keep beside a run), or null for bytes. */
  tokenizerJson: Uint8Array | null
}

/** Encodes bytes to tokens: the byte tokenizer, or a BPE. */
export interface Encoder {
  encode: (bytes: Uint8Array) => Int32Array
  json: Uint8Array | null
  /** Tokens the encoder makes are 0..vocab - 1. */
  vocab: number
}

/**
 * The tokenizer a recipe names: 'byte', or a BPE whose tokenizer.json is the raw block
 * `name` (a CID) in `blocks` (checked against its hash as it is read).
 */
export async function loadTokenizer (blocks: BlockReader, name: string): Promise<Encoder> {
  if (name === 'byte') return { encode: bytes => Int32Array.from(bytes), json: null, vocab: 256 }
  let cid: CID
  try {
    cid = CID.parse(name)
  } catch {
    throw new UnknownTokenizerError(`unknown tokenizer "${name}"`, { hint: 'use byte, or the CID commons tokenizer train printed', details: { tokenizer: name } })
  }
  const json = await getVerifiedBlock(blocks, cid)
  const tokenizer = new BpeTokenizer(parseTokenizerJson(JSON.parse(Buffer.from(json).toString('utf8')), `tokenizer ${name}`))
  return { encode: bytes => tokenizer.encode(bytes), json, vocab: tokenizer.vocab }
}

/**
 * Turns a version into the i32 token stream a training job reads. Deterministic:
 * files in byte order of their paths, each file's tokens in order, nothing between.
 * The byte tokenizer maps each byte to its value (vocabulary 256); a BPE encodes each
 * file on its own (no merge spans two files).
 */
export async function tokenizeVersion (store: Store, ref: string, tokenizer: string): Promise<TokenizeResult> {
  const encoder = await loadTokenizer(store.blocks, tokenizer)
  const cid = await resolveVersion(store, ref)
  const files = await listFiles(store.blocks, (await readVersion(store.blocks, cid)).tree)
  const parts: Int32Array[] = []
  for (const file of files) parts.push(encoder.encode(await readFileBytes(store.blocks, file.cid)))
  const tokens = new Int32Array(parts.reduce((sum, p) => sum + p.length, 0))
  let offset = 0
  for (const part of parts) {
    tokens.set(part, offset)
    offset += part.length
  }
  return { cid, tokenizer, tokens, files: files.length, tokenizerJson: encoder.json }
}
