import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Tokenizer } from '@huggingface/tokenizers'
import { BpeTokenizer, trainBpe, TokenizerError, type Bpe } from './bpe.ts'
import { byteToUnicode } from './byteTokens.ts'
import { pieces } from './pretokenize.ts'
import { parseTokenizerJson, tokenizerFile, tokenizerJson } from './tokenizerJson.ts'
import { publishedLayout } from './testing.ts'

const root = join(import.meta.dirname, '..', '..', '..')
const TEXTS = [
  'the cat sat on the mat',
  "Commons' DAO can't, won't and shouldn't; we'll see. It's 2026!",
  '  two  spaces\nand\ttabs\n\n\nand trailing   ',
  '{"text": "café, naïve — ✓ 🚀", "n": 12345.678}',
  'x'
]

let dir: string
let bpe: Bpe
let corpus: Buffer
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'commons-bpe-'))
  corpus = Buffer.concat(await Promise.all(['README.md', 'packages/models/README.md', 'docs/step-program.md'].map(async f => readFile(join(root, f)))))
  bpe = trainBpe(corpus, 600)
})
after(async () => { await rm(dir, { recursive: true, force: true }) })

/** Bytes from a fixed linear congruential sequence: any byte values, invalid UTF-8 included. */
function randomBytes (n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; out[i] = x >>> 24 }
  return out
}

describe('byte-level BPE', () => {
  it('splits into pieces that join back to the input, valid UTF-8 or not', () => {
    for (const bytes of [...TEXTS.map(t => Buffer.from(t)), randomBytes(5000, 1), Uint8Array.of(0xe2, 0x82), Uint8Array.of(0xed, 0xa0, 0x80)]) {
      assert.deepEqual(Buffer.concat([...pieces(bytes)]), Buffer.from(bytes))
    }
    assert.deepEqual([...pieces(Buffer.from("it's a  test"))].map(p => Buffer.from(p).toString()), ['it', "'s", ' a', ' ', ' test'])
  })

  it('trains the same merges every time, reaches the vocabulary, and round-trips any bytes', () => {
    assert.deepEqual(trainBpe(corpus, 600), bpe)
    const tokenizer = new BpeTokenizer(bpe)
    assert.equal(tokenizer.vocab, 600)
    assert.equal(new Set(tokenizer.tokenStrings()).size, 600, 'no two tokens spelled alike')
    for (const bytes of [...TEXTS.map(t => Buffer.from(t)), randomBytes(20_000, 2), corpus]) {
      assert.deepEqual(Buffer.from(tokenizer.decode(tokenizer.encode(bytes))), Buffer.from(bytes))
    }
    const ids = tokenizer.encode(corpus)
    assert.ok(ids.length < corpus.length * 0.55, `merges compress text (${ids.length} tokens for ${corpus.length} bytes)`)
    assert.ok(ids.every(id => id >= 0 && id < 600))
  })

  it('is stored as a tokenizer.json that Hugging Face tokenizers encodes and decodes the same way', async () => {
    const json = tokenizerJson(bpe)
    assert.deepEqual(parseTokenizerJson(JSON.parse(JSON.stringify(json))), bpe)
    const hf = new Tokenizer(json, { tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false })
    const ours = new BpeTokenizer(bpe)
    for (const text of [...TEXTS, corpus.subarray(0, 4000).toString()]) {
      assert.deepEqual(hf.encode(text).ids, [...ours.encode(Buffer.from(text))], text.slice(0, 40))
      assert.equal(hf.decode(hf.encode(text).ids), text)
    }
  })

  it('refuses impossible vocabularies and foreign tokenizer files', () => {
    assert.throws(() => trainBpe(corpus, 100), TokenizerError)
    assert.throws(() => parseTokenizerJson({ model: { type: 'WordPiece' } }), TokenizerError)
    const json = tokenizerJson(bpe) as { model: { merges: string[] } }
    assert.throws(() => parseTokenizerJson({ ...json, model: { ...json.model, merges: ['zz qq', ...json.model.merges] } }), TokenizerError)
  })
})

describe('a published model\'s vocabulary', () => {
  const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>']
  for (const pre of ['llama3', 'gpt2'] as const) it(`encodes like Hugging Face tokenizers with special tokens first, bytes anywhere, ${pre}'s pre-tokenizer`, () => {
    const published = publishedLayout(bpe, SPECIALS, pre)
    const ours = new BpeTokenizer(published)
    assert.equal(ours.vocab, 600 + SPECIALS.length)
    assert.notEqual(ours.encode(Buffer.from('A'))[0], 0x41, 'a byte is not its own id')
    const json = tokenizerJson(published)
    const parsed = parseTokenizerJson(JSON.parse(JSON.stringify(json)))
    assert.deepEqual(tokenizerFile(parsed), tokenizerFile(published), 'the file reads back to itself')
    const hf = new Tokenizer(json, { tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false })
    const texts = [...TEXTS, "I'M HERE, YOU'LL SEE 1234567 apples\r\n\n  ok", corpus.subarray(0, 4000).toString()]
    for (const text of texts) {
      assert.deepEqual([...ours.encode(Buffer.from(text))], hf.encode(text, { add_special_tokens: false }).ids, text.slice(0, 40))
      assert.equal(Buffer.from(ours.decode(ours.encode(Buffer.from(text)))).toString(), text)
    }
    assert.equal(Buffer.from(ours.decode([0, 1])).toString(), '<|endoftext|><|im_start|>', 'special tokens decode to their text')
  })

  it('refuses a vocabulary without every byte, or with a pre-tokenizer it does not know', () => {
    const published = publishedLayout(bpe, SPECIALS) as Required<Bpe>
    const json = tokenizerJson(published) as { model: { vocab: Record<string, number> }, pre_tokenizer: unknown }
    const lacking = Object.fromEntries(Object.entries(json.model.vocab).map(([t, id]) => [t === 'A' ? '<|A|>' : t, id]))
    assert.throws(() => parseTokenizerJson({ ...json, model: { ...json.model, vocab: lacking } }), TokenizerError)
    assert.throws(() => parseTokenizerJson({ ...json, pre_tokenizer: { type: 'Metaspace' } }), TokenizerError)
  })
})

describe('the byte vocabulary', () => {
  it('spells 256 distinct tokens, printable bytes as themselves (GPT-2 byte-level)', () => {
    const tokens = byteToUnicode()
    assert.equal(new Set(tokens).size, 256)
    assert.equal(tokens[0x41], 'A')
    assert.equal(tokens[0x20], 'Ġ')
    assert.equal(tokens[0x0a], 'Ċ')
  })
})
