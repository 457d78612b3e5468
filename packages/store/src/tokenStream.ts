import { closeSync, openSync, readSync } from 'node:fs'
import { mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import { WINDOW_PIECE_HEIGHT } from '@commons/protocol/merkle'
import type { Store } from './store.ts'
import { resolveVersion } from './resolveVersion.ts'
import { LITTLE_ENDIAN_HOST, streamTokens, type StreamTokensOptions, type TokenWidth } from './streamTokens.ts'
import { TokenStreamError } from './errors.ts'

/** What is known of a stored token stream, computed as it was written (the `.json` beside it). */
export interface TokenStreamInfo {
  version: string
  tokenizer: string
  tokens: number
  tokensRoot: `0x${string}`
  min: number
  max: number
  /** Bytes per token in the file: 1 (uint8), 2 (little-endian uint16) or 4 (little-endian int32). Absent in older info files: 4. */
  width?: TokenWidth
}

/**
 * A version's token stream on disk, read by windows: what training needs of data
 * larger than memory (the engine's TokenStream). Close it when done.
 */
export interface StoredTokenStream extends TokenStreamInfo {
  /** The token file (`width` bytes a token: uint8, else little-endian uint16 or int32). */
  path: string
  readonly length: number
  /** The node over whole piece `index` of 8 x 2^17 tokens, kept as the stream was written (range proofs start there). */
  pieceNode (index: number): Uint8Array | undefined
  /** Tokens [begin, end), read from the file (a fresh array). */
  subarray (begin: number, end: number): Int32Array
  close (): void
}

/**
 * Where a home keeps token streams: one file per version and tokenizer, with its root
 * beside it. A stream is stored as narrow as its tokenizer's vocabulary allows
 * (tokenWidthFor): the byte tokenizer's one byte a token (the dataset's own size), a BPE
 * of up to 65,536 tokens two; its info says which.
 */
export function tokenStreamPath (home: string, version: string, tokenizer: string): string {
  return join(home, 'tokens', `${version}.${tokenizer}.${tokenizer === 'byte' ? 'u8' : 'tokens'}`)
}

/**
 * The token stream of a version (tokenizeVersion's tokens) as a file in the home,
 * written once by streamTokens in bounded memory and named by what fixes its content:
 * the version's CID and the tokenizer (a name or a CID). Its tokens root, computed
 * from the same tokens as they were written, is kept beside it and stands for the
 * whole stream: a run records it and every window training reads is part of it.
 * Reading windows costs a read each, not the stream's size in memory.
 */
export async function openTokenStream (store: Store, ref: string, tokenizer: string, options: Pick<StreamTokensOptions, 'onProgress'> = {}): Promise<StoredTokenStream> {
  const version = (await resolveVersion(store, ref)).toString()
  const path = tokenStreamPath(store.home, version, tokenizer)
  let info = await readInfo(path, version, tokenizer)
  if (info === null) {
    // One writer per stream in this process: two jobs on one dataset (a node's trainer and
    // validator) would otherwise write the same temp file at once.
    let writing = writes.get(path)
    if (writing === undefined) {
      writing = writeStream(store, path, version, tokenizer, options).finally(() => writes.delete(path))
      writes.set(path, writing)
    }
    info = await writing
  }
  return openStream(path, info, await readPieces(path, info))
}

/** The piece nodes kept beside a stream, or none when they are missing or not all there. */
async function readPieces (path: string, info: TokenStreamInfo): Promise<Uint8Array> {
  const bytes = await readFile(`${path}.pieces`).catch(() => null)
  const whole = Math.floor(info.tokens / (8 * 2 ** WINDOW_PIECE_HEIGHT))
  return bytes !== null && bytes.length === whole * 32 ? bytes : new Uint8Array(0)
}

const writes = new Map<string, Promise<TokenStreamInfo>>()

async function writeStream (store: Store, path: string, version: string, tokenizer: string, options: Pick<StreamTokensOptions, 'onProgress'>): Promise<TokenStreamInfo> {
  await mkdir(join(store.home, 'tokens'), { recursive: true })
  const pieces: Uint8Array[] = []
  const result = await streamTokens(store, version, tokenizer, { out: path, width: 'narrowest', onProgress: options.onProgress, onPiece: node => { pieces.push(node) } })
  const info = { version, tokenizer, tokens: result.tokens, tokensRoot: result.tokensRoot, min: result.min, max: result.max, width: result.width }
  // Written after the stream is in place, the info last: an info file always describes a
  // whole stream, and the piece nodes (32 bytes per 8 x 2^17 tokens) are those of its tokens.
  await writeFileAtomic(`${path}.pieces`, Buffer.concat(pieces))
  await writeFileAtomic(`${path}.json`, JSON.stringify(info, null, 2) + '\n')
  return info
}

/** The info of a stored stream, or null when there is none (or its file is not the size it says). */
async function readInfo (path: string, version: string, tokenizer: string): Promise<TokenStreamInfo | null> {
  const text = await readFile(`${path}.json`, 'utf8').catch(() => null)
  if (text === null) return null
  const info = JSON.parse(text) as TokenStreamInfo
  const size = await stat(path).then(s => s.size, () => -1)
  const width = info.width ?? 4
  if (info.version !== version || info.tokenizer !== tokenizer || ![1, 2, 4].includes(width) || size !== info.tokens * width) return null
  return info
}

function openStream (path: string, info: TokenStreamInfo, pieces: Uint8Array): StoredTokenStream {
  const fd = openSync(path, 'r')
  const width = info.width ?? 4
  let open = true
  return {
    ...info,
    path,
    length: info.tokens,
    pieceNode: index => (index + 1) * 32 <= pieces.length ? pieces.subarray(index * 32, index * 32 + 32) : undefined,
    subarray (begin: number, end: number): Int32Array {
      if (!open) throw new TokenStreamError(`the token stream ${path} is closed`)
      const from = Math.max(0, Math.min(begin, info.tokens))
      const out = new Int32Array(Math.max(0, Math.min(end, info.tokens) - from))
      const bytes = width === 4 ? new Uint8Array(out.buffer) : new Uint8Array(out.length * width)
      for (let done = 0; done < bytes.length;) {
        const read = readSync(fd, bytes, done, bytes.length - done, from * width + done)
        if (read === 0) throw new TokenStreamError(`the token stream ${path} ends before token ${from + Math.floor(done / width)}`, { hint: `remove ${path}.json; the next run writes the stream again` })
        done += read
      }
      if (width === 1) out.set(bytes)
      else if (width === 2) {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
        for (let i = 0; i < out.length; i++) out[i] = view.getUint16(i * 2, true)
      } else if (!LITTLE_ENDIAN_HOST) {
        const view = new DataView(out.buffer)
        for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, true)
      }
      return out
    },
    close () {
      if (open) closeSync(fd)
      open = false
    }
  }
}
