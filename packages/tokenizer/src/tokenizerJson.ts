import { byteToUnicode } from './byteTokens.ts'
import { BpeTokenizer, TokenizerError, type Bpe } from './bpe.ts'

/**
 * A byte-level BPE as Hugging Face's tokenizer.json: the standard file a Commons
 * tokenizer is stored as (by CID) and exported with. The byte tokenizer is the BPE with
 * no merges.
 */

export function tokenizerJson (bpe: Bpe): Record<string, unknown> {
  const tokenizer = new BpeTokenizer(bpe)
  const strings = tokenizer.tokenStrings()
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab: Object.fromEntries(strings.map((token, id) => [token, id])),
      merges: tokenizer.mergeStrings()
    }
  }
}

/** The bytes a tokenizer is stored as (and named by, as a raw CID): tokenizerJson, compact. */
export function tokenizerFile (bpe: Bpe): Buffer {
  return Buffer.from(JSON.stringify(tokenizerJson(bpe)))
}

/** The merges of a tokenizer.json written by tokenizerJson (or any byte-level BPE with the same base). */
export function parseTokenizerJson (json: unknown, source = 'tokenizer.json'): Bpe {
  const model = (json as { model?: { type?: string, vocab?: Record<string, number>, merges?: unknown[] } }).model
  if (model?.type !== 'BPE' || model.vocab === undefined || !Array.isArray(model.merges)) {
    throw new TokenizerError(`${source} is not a byte-level BPE tokenizer.json`, { hint: 'make one with commons tokenizer train' })
  }
  const bytes = byteToUnicode()
  bytes.forEach((token, id) => {
    if (model.vocab?.[token] !== id) throw new TokenizerError(`${source}: token ${id} is not the byte ${id}`, { hint: 'Commons tokenizers start with the 256 bytes in order' })
  })
  const vocab = model.vocab
  const merges = model.merges.map((m, k): [number, number] => {
    const [a, b] = Array.isArray(m) ? m as string[] : String(m).split(' ')
    const left = vocab[a]
    const right = vocab[b]
    if (left === undefined || right === undefined) throw new TokenizerError(`${source}: merge ${k} (${String(m)}) names a token not in the vocabulary`)
    return [left, right]
  })
  const bpe = { merges }
  const rebuilt = new BpeTokenizer(bpe).tokenStrings()
  if (rebuilt.length !== Object.keys(vocab).length || rebuilt.some((token, id) => vocab[token] !== id)) {
    throw new TokenizerError(`${source}: the vocabulary is not the one its merges make`, { hint: 'the ids must be those the merges give, in order' })
  }
  return bpe
}
