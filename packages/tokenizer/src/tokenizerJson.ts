import { byteToUnicode } from './byteTokens.ts'
import { BpeTokenizer, type Bpe } from './bpe.ts'
import { TokenizerError } from './errors.ts'
import { LLAMA3_PATTERN, type PreTokenizer } from './pretokenize.ts'
import type { Token } from './vocabulary.ts'

/**
 * A byte-level BPE as Hugging Face's tokenizer.json: the standard file a Commons
 * tokenizer is stored as (by CID) and exported with. The byte tokenizer is the BPE with
 * no merges. An imported vocabulary keeps its order, its special tokens (as
 * added_tokens) and its pre-tokenizer (GPT-2's or Llama 3's).
 */

const byteLevel = (useRegex: boolean): Record<string, unknown> => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: useRegex })

function preTokenizerJson (pre: PreTokenizer): Record<string, unknown> {
  if (pre === 'gpt2') return byteLevel(true)
  return { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false }, byteLevel(false)] }
}

export function tokenizerJson (bpe: Bpe): Record<string, unknown> {
  const tokenizer = new BpeTokenizer(bpe)
  const strings = tokenizer.tokenStrings()
  const pre = bpe.pre ?? 'gpt2'
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: tokenizer.specialTokens().map(({ id, content }) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: preTokenizerJson(pre),
    post_processor: null,
    decoder: byteLevel(true),
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: pre === 'llama3',
      vocab: Object.fromEntries(strings.map((token, id) => [token, id])),
      merges: tokenizer.mergeStrings()
    }
  }
}

/** The bytes a tokenizer is stored as (and named by, as a raw CID): tokenizerJson, compact. */
export function tokenizerFile (bpe: Bpe): Buffer {
  return Buffer.from(JSON.stringify(tokenizerJson(bpe)))
}

interface TokenizerJson {
  added_tokens?: Array<{ id: number, content: string }>
  pre_tokenizer?: { type?: string, use_regex?: boolean, pretokenizers?: Array<{ type?: string, pattern?: { Regex?: string }, use_regex?: boolean }> }
  model?: { type?: string, vocab?: Record<string, number>, merges?: unknown[] }
}

/** GPT-2's ByteLevel(use_regex), or Llama 3's Split then ByteLevel; anything else is refused. */
function preTokenizerOf (json: TokenizerJson, source: string): PreTokenizer {
  const pre = json.pre_tokenizer
  if (pre === undefined || pre === null || (pre.type === 'ByteLevel' && pre.use_regex !== false)) return 'gpt2'
  const [split, level] = pre.pretokenizers ?? []
  if (pre.type === 'Sequence' && split?.type === 'Split' && split.pattern?.Regex === LLAMA3_PATTERN && level?.type === 'ByteLevel' && level.use_regex === false) return 'llama3'
  throw new TokenizerError(`${source}: its pre-tokenizer is neither GPT-2's nor Llama 3's`, { hint: 'Commons reads byte-level BPEs with those two splits' })
}

/** The tokens in id order: bytes from their byte-level spelling, special (added) tokens by text. */
function tokensOf (vocab: Record<string, number>, added: ReadonlyArray<{ id: number, content: string }>, source: string): Token[] {
  const byChar = new Map(byteToUnicode().map((c, b) => [c, b]))
  const byId = new Map<number, Token>()
  for (const { id, content } of added) byId.set(id, { special: content })
  for (const [text, id] of Object.entries(vocab)) {
    if (byId.has(id)) continue
    const bytes = Array.from(text, c => byChar.get(c))
    if (bytes.some(b => b === undefined)) throw new TokenizerError(`${source}: token ${id} (${JSON.stringify(text)}) is not spelled in byte-level characters`, { hint: 'mark it as an added (special) token, or use a byte-level BPE' })
    byId.set(id, { bytes: Uint8Array.from(bytes as number[]) })
  }
  const tokens = Array.from({ length: byId.size }, (_, id) => byId.get(id))
  if (tokens.some(t => t === undefined)) throw new TokenizerError(`${source}: the token ids are not 0..${byId.size - 1} without gaps`)
  return tokens as Token[]
}

/** A byte-level BPE from a tokenizer.json: a Commons one (bytes first) or an imported model's. */
export function parseTokenizerJson (json: unknown, source = 'tokenizer.json'): Bpe {
  const parsed = json as TokenizerJson
  const model = parsed.model
  if (model?.type !== 'BPE' || model.vocab === undefined || !Array.isArray(model.merges)) {
    throw new TokenizerError(`${source} is not a byte-level BPE tokenizer.json`, { hint: 'make one with commons tokenizer train' })
  }
  return bpeOf({ vocab: model.vocab, merges: model.merges, special: parsed.added_tokens ?? [], pre: preTokenizerOf(parsed, source) }, source)
}

/** A vocabulary as files spell it (tokenizer.json, GGUF): token strings by id, merges as strings, special tokens. */
export interface SpelledVocabulary {
  vocab: Record<string, number>
  merges: unknown[]
  special: ReadonlyArray<{ id: number, content: string }>
  pre: PreTokenizer
}

/** The BPE a spelled vocabulary is: implicit when it is the bytes then the merges' tokens (a Commons tokenizer), else explicit. */
export function bpeOf ({ vocab, merges: spelled, special, pre }: SpelledVocabulary, source: string): Bpe {
  const merges = spelled.map((m, k): [number, number] => {
    const [a, b] = Array.isArray(m) ? m as string[] : String(m).split(' ')
    const left = vocab[a]
    const right = vocab[b]
    if (left === undefined || right === undefined) throw new TokenizerError(`${source}: merge ${k} (${String(m)}) names a token not in the vocabulary`)
    return [left, right]
  })
  // A vocabulary that is the 256 bytes then what the merges make, in order, is a Commons
  // tokenizer's: kept implicit, so it is stored and named as before.
  const bytesFirst = pre === 'gpt2' && special.length === 0 && byteToUnicode().every((token, id) => vocab[token] === id) && merges.every(([a, b], k) => a < 256 + k && b < 256 + k)
  if (bytesFirst) {
    const implicit: Bpe = { merges }
    const strings = new BpeTokenizer(implicit).tokenStrings()
    if (strings.length === Object.keys(vocab).length && strings.every((token, id) => vocab[token] === id)) return implicit
  }
  const bpe: Bpe = { merges, vocabulary: tokensOf(vocab, special, source), ...(pre === 'gpt2' ? {} : { pre }) }
  new BpeTokenizer(bpe) // checks: every byte has a token, every merge makes one
  return bpe
}
