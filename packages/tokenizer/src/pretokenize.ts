/**
 * GPT-2's pre-tokenization, the split that byte-level BPE merges within (and that
 * llama.cpp's "gpt2" pre-tokenizer and Hugging Face's ByteLevel(use_regex) both apply):
 * contractions, words with one leading space, numbers, punctuation runs, whitespace.
 * Bytes that are not valid UTF-8 are pieces of one byte each, so every byte string
 * round-trips (text runtimes only ever see valid UTF-8).
 */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu

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
export function * pieces (bytes: Uint8Array): Generator<Uint8Array> {
  let start = 0
  let i = 0
  const flush = function * (end: number): Generator<Uint8Array> {
    if (end <= start) return
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8')
    for (const match of text.matchAll(GPT2_SPLIT)) yield Buffer.from(match[0], 'utf8')
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
