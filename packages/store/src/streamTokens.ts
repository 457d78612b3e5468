import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { dirname, join, basename, resolve } from 'node:path'
import type { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { listFiles, type FileEntry } from './listFiles.ts'
import type { BlockReader } from './blocks.ts'
import { readFileBytes, readFileContent } from './readFileContent.ts'
import { resolveVersion } from './resolveVersion.ts'
import { readVersion } from './version.ts'
import { loadTokenizer, type Encoder } from './tokenizeVersion.ts'
import { TokensRootBuilder } from './tokensRoot.ts'
import { TokenStreamError } from './errors.ts'

export interface StreamTokensResult {
  cid: CID
  /** 'byte', or the tokenizer.json CID. */
  tokenizer: string
  tokens: number
  /** The tokens root (tokensRootOf of the whole stream), built as it went. */
  tokensRoot: `0x${string}`
  /** The smallest and largest token (0 and -1 for an empty stream): a model's vocabulary must hold them. */
  min: number
  max: number
  files: number
  /** Where the tokens were written (little-endian, `width` bytes each), if asked. */
  out?: string
  /** Bytes per token in `out`. */
  width: TokenWidth
}

export interface StreamTokensOptions {
  /** Write the tokens as little-endian int32 to this file (temp, then renamed). */
  out?: string
  /**
   * Bytes per token in `out`: 4 (int32, the default), 2 (uint16: a vocabulary of at most
   * 65,536, half the disk) or 1 (uint8: the byte tokenizer's tokens, a quarter). A token
   * that does not fit is a TokenStreamError. 'narrowest': the least the tokenizer's
   * vocabulary allows (tokenWidthFor).
   */
  width?: TokenWidth | 'narrowest'
  /** Called as tokens are produced: tokens so far, file bytes read, file bytes in all. */
  onProgress?: (tokens: number, done: number, total: number) => void
  /** Told the node over each whole piece of 8 x 2^17 tokens, in order (TokensRootBuilder). */
  onPiece?: (node: Uint8Array, index: number) => void
}

/**
 * The token stream of a version's files (listFiles order), in the order tokenizeVersion gives it, piece by
 * piece: the byte tokenizer yields one stored block at a time; a BPE encodes each
 * file whole (no merge spans two files, and none may be cut inside one), so its
 * memory is bounded by the largest file.
 */
export async function * versionTokens (blocks: BlockReader, files: FileEntry[], encoder: Encoder, onBytes?: (bytes: number) => void): AsyncGenerator<Int32Array> {
  for (const file of files) {
    if (encoder.json === null) {
      for await (const block of readFileContent(blocks, file.cid)) {
        onBytes?.(block.length)
        yield encoder.encode(block)
      }
    } else {
      const bytes = await readFileBytes(blocks, file.cid)
      onBytes?.(bytes.length)
      yield encoder.encode(bytes)
    }
  }
}

/**
 * Tokenizes a version in bounded memory: counts the tokens, builds their root as
 * they pass and, with `out`, writes them to a file. The same tokens and root as
 * tokenizeVersion and tokensRootOf, for datasets larger than memory.
 */
export async function streamTokens (store: Store, ref: string, tokenizer: string, options: StreamTokensOptions = {}): Promise<StreamTokensResult> {
  const encoder = await loadTokenizer(store.blocks, tokenizer)
  const width = options.width === 'narrowest' ? tokenWidthFor(encoder.vocab) : options.width ?? 4
  const cid = await resolveVersion(store, ref)
  const files = await listFiles(store.blocks, (await readVersion(store.blocks, cid)).tree)
  const total = files.reduce((sum, f) => sum + f.size, 0)
  const builder = new TokensRootBuilder({ onPiece: options.onPiece })
  const target = options.out === undefined ? undefined : resolve(options.out)
  const temp = target === undefined ? undefined : join(dirname(target), `.${basename(target)}.${process.pid}.tmp`)
  if (temp !== undefined) await mkdir(dirname(temp), { recursive: true })
  let done = 0
  let reported = 0
  let min = 0
  let max = -1
  const produce = async function * (): AsyncGenerator<Int32Array> {
    for await (const tokens of versionTokens(store.blocks, files, encoder, bytes => { done += bytes })) {
      builder.push(tokens)
      if (max < min && tokens.length > 0) min = max = tokens[0]
      for (let i = 0; i < tokens.length; i++) {
        const token = tokens[i]
        if (token < min) min = token
        else if (token > max) max = token
      }
      // Reported every 4 MiB read (a block is ~4.6 KiB: per block would be 200,000 calls a GB).
      if (done - reported >= PROGRESS_EVERY || done === total) {
        reported = done
        options.onProgress?.(builder.count, done, total)
      }
      yield tokens
    }
  }
  if (temp === undefined) {
    for await (const _ of produce()) { /* counted and hashed as it passes */ }
  } else {
    try {
      const encode = width === 1 ? asBytes : width === 2 ? asUint16 : littleEndian
      await pipeline(async function * () { for await (const tokens of produce()) yield encode(tokens) }, createWriteStream(temp))
      await rename(temp, target as string)
    } catch (error) {
      await rm(temp, { force: true })
      throw error
    }
  }
  return { cid, tokenizer, tokens: builder.count, tokensRoot: builder.root(), min, max, files: files.length, out: target, width }
}

const PROGRESS_EVERY = 4 << 20

/** Whether this machine stores an Int32Array's words little-endian (the token files' order). */
export const LITTLE_ENDIAN_HOST = new Uint8Array(Int32Array.of(1).buffer)[0] === 1

/** The tokens as one byte each (a copy), every one checked to fit. */
function asBytes (tokens: Int32Array): Buffer {
  const out = Buffer.allocUnsafe(tokens.length)
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (token < 0 || token > 255) throw new TokenStreamError(`token ${token} does not fit a stream of one byte per token`, { hint: 'write the stream with 4 bytes per token', details: { token } })
    out[i] = token
  }
  return out
}

/** The tokens as little-endian uint16 (a copy), every one checked to fit. */
function asUint16 (tokens: Int32Array): Buffer {
  const out = Buffer.allocUnsafe(tokens.length * 2)
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (token < 0 || token > 65_535) throw new TokenStreamError(`token ${token} does not fit a stream of two bytes per token`, { hint: 'write the stream with 4 bytes per token', details: { token } })
    out.writeUInt16LE(token, i * 2)
  }
  return out
}

/** Bytes per token in a stored stream: uint8, little-endian uint16, or little-endian int32. */
export type TokenWidth = 1 | 2 | 4

/** The narrowest width that holds every token of a vocabulary of `vocab` (tokens 0..vocab - 1). */
export function tokenWidthFor (vocab: number): TokenWidth {
  return vocab <= 256 ? 1 : vocab <= 65_536 ? 2 : 4
}

/** The tokens as little-endian int32 bytes (a copy: the writer keeps it past the call). */
function littleEndian (tokens: Int32Array): Buffer {
  const out = Buffer.allocUnsafe(tokens.length * 4)
  if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength))
  else for (let i = 0; i < tokens.length; i++) out.writeInt32LE(tokens[i], i * 4)
  return out
}
