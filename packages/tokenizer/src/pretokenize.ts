/**
 * GPT-2's pre-tokenization, the split that byte-level BPE merges within (and that
 * llama.cpp's "gpt2" pre-tokenizer and Hugging Face's ByteLevel(use_regex) both apply):
 * contractions, words with one leading space, numbers, punctuation runs, whitespace.
 * Bytes that are not valid UTF-8 are pieces of one byte each, so every byte string
 * round-trips (text runtimes only ever see valid UTF-8).
 */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu

/**
 * Llama 3's split (llama.cpp's "llama-bpe", tokenizers' Split of LLAMA3_PATTERN):
 * contractions in any case, a word with one leading non-letter, numbers of up to three
 * digits, punctuation with its line breaks, whitespace.
 */
const LLAMA3_SPLIT = /'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu

/** The pattern as tokenizer.json spells it (Split, Regex): what identifies Llama 3's pre-tokenizer there. */
export const LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/** The pre-tokenizers byte-level BPEs use: GPT-2's (Commons tokenizers) and Llama 3's. */
export type PreTokenizer = 'gpt2' | 'llama3'

/** Length of the valid UTF-8 sequence starting at `i`, or 0 if the byte there starts none. */
function sequenceLength (bytes: Uint8Array, i: number): number {
  const b = bytes[i]
  if (b < 0x80) return 1
  const n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
  if (n === 0 || i + n > bytes.length) return 0
  for (let k = 1; k < n; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return 0
  const c1 = bytes[i + 1]
  // Overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8.
  if ((b === 0xe0 && c1 < 0xa0) || (b === 0xed && c1 > 0x9f) || (b === 0xf0 && c1 < 0x90) || (b === 0xf4 && c1 > 0x8f)) return 0
  return n
}

/** The pieces of `bytes`, in order; their concatenation is `bytes`. */
export function * pieces (bytes: Uint8Array, pre: PreTokenizer = 'gpt2'): Generator<Uint8Array> {
  const split = pre === 'llama3' ? LLAMA3_SPLIT : GPT2_SPLIT
  let start = 0
  let i = 0
  const flush = function * (end: number): Generator<Uint8Array> {
    if (end <= start) return
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8')
    for (const match of text.matchAll(split)) yield Buffer.from(match[0], 'utf8')
  }
  while (i < bytes.length) {
    const n = sequenceLength(bytes, i)
    if (n > 0) {
      i += n
      continue
    }
    yield * flush(i)
    yield bytes.subarray(i, i + 1)
    i++
    start = i
  }
  yield * flush(i)
}
