import { byteToUnicode } from './byteTokens.ts'
import { TokenizerError } from './errors.ts'
import { pieces, type PreTokenizer } from './pretokenize.ts'
import { vocabularyOf, type Token, type Vocabulary } from './vocabulary.ts'

/**
 * Byte-level BPE (GPT-2 style): token ids 0-255 are the bytes (a Commons tokenizer's;
 * an imported vocabulary may order its tokens otherwise: vocabulary.ts); merge k joins two tokens
 * into the token of their bytes, a new id unless an earlier merge made the same bytes
 * (as Hugging Face's trainer does: a vocabulary never spells two tokens alike).
 * Training is deterministic: each merge joins the most frequent adjacent pair within
 * pieces, ties broken by the smaller (left, right) ids, so the same data and vocabulary
 * size give the same merges on every machine. Encoding applies merges by rank, leftmost
 * first, as llama.cpp and Hugging Face tokenizers do.
 */

export { TokenizerError }

export interface Bpe {
  /** merges[k] = [left, right], in rank order. */
  merges: Array<[number, number]>
  /**
   * The tokens, when they are not the 256 bytes followed by each merge's new token in
   * order (an imported model's vocabulary, special tokens included: vocabulary.ts).
   */
  vocabulary?: Token[]
  /** How text is cut into pieces before merging (pretokenize.ts); GPT-2's unless set. */
  pre?: PreTokenizer
}

const key = (a: number, b: number): number => a * 0x100000 + b
const MAX_VOCAB = 0x100000

/** A max-heap of (count, pair) with stale entries skipped on pop. */
class PairHeap {
  private items: Array<[number, number]> = []
  private better (i: number, j: number): boolean {
    const [ci, ki] = this.items[i]
    const [cj, kj] = this.items[j]
    return ci > cj || (ci === cj && ki < kj)
  }

  private swap (i: number, j: number): void { [this.items[i], this.items[j]] = [this.items[j], this.items[i]] }

  push (count: number, pair: number): void {
    this.items.push([count, pair])
    let i = this.items.length - 1
    while (i > 0 && this.better(i, (i - 1) >> 1)) { this.swap(i, (i - 1) >> 1); i = (i - 1) >> 1 }
  }

  /** The best pair whose entry is current (its count equals `counts`), or undefined. */
  pop (counts: Map<number, number>): [number, number] | undefined {
    while (this.items.length > 0) {
      const top = this.items[0]
      const last = this.items.pop() as [number, number]
      if (this.items.length > 0) {
        this.items[0] = last
        let i = 0
        for (;;) {
          const l = 2 * i + 1
          const r = l + 1
          let best = i
          if (l < this.items.length && this.better(l, best)) best = l
          if (r < this.items.length && this.better(r, best)) best = r
          if (best === i) break
          this.swap(i, best)
          i = best
        }
      }
      if (counts.get(top[1]) === top[0] && top[0] > 0) return top
    }
    return undefined
  }
}

export interface TrainBpeOptions {
  /** Called after each merge with the merges done so far. */
  onMerge?: (done: number, total: number) => void
}

/** Learns merges from `data` until the vocabulary has `vocab` tokens, or the data runs out of pairs. */
export function trainBpe (data: Uint8Array, vocab: number, options: TrainBpeOptions = {}): Bpe {
  if (!Number.isInteger(vocab) || vocab < 256 || vocab > MAX_VOCAB) throw new TokenizerError(`a vocabulary of ${vocab} tokens is not possible`, { hint: `choose 256 to ${MAX_VOCAB} (256 is the byte tokenizer)` })
  const counted = new Map<string, number>()
  for (const piece of pieces(data)) {
    const k = Buffer.from(piece).toString('latin1')
    counted.set(k, (counted.get(k) ?? 0) + 1)
  }
  const words = [...counted].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([k, count]) => ({ ids: [...Buffer.from(k, 'latin1')], count }))
  const counts = new Map<number, number>()
  const where = new Map<number, Set<number>>()
  const add = (a: number, b: number, n: number, w: number): void => {
    const k = key(a, b)
    counts.set(k, (counts.get(k) ?? 0) + n)
    let set = where.get(k)
    if (set === undefined) where.set(k, set = new Set())
    set.add(w)
  }
  words.forEach((word, w) => { for (let i = 0; i + 1 < word.ids.length; i++) add(word.ids[i], word.ids[i + 1], word.count, w) })
  const heap = new PairHeap()
  for (const [k, c] of counts) heap.push(c, k)
  const merges: Array<[number, number]> = []
  const tokenBytes: Uint8Array[] = Array.from({ length: 256 }, (_, i) => Uint8Array.of(i))
  const tokenIds = new Map<string, number>(tokenBytes.map((b, i) => [Buffer.from(b).toString('latin1'), i]))
  const total = vocab - 256
  while (tokenBytes.length < vocab) {
    const best = heap.pop(counts)
    if (best === undefined) break
    const pair = best[1]
    const a = Math.floor(pair / 0x100000)
    const b = pair % 0x100000
    merges.push([a, b])
    const joined = Buffer.concat([tokenBytes[a], tokenBytes[b]])
    let id = tokenIds.get(joined.toString('latin1'))
    if (id === undefined) {
      id = tokenBytes.length
      tokenIds.set(joined.toString('latin1'), id)
      tokenBytes.push(joined)
    }
    const touched = new Set<number>()
    for (const w of where.get(pair) ?? []) {
      const word = words[w]
      const ids = word.ids
      let changed = false
      const next: number[] = []
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) { next.push(id); i++; changed = true } else next.push(ids[i])
      }
      if (!changed) continue
      for (let i = 0; i + 1 < ids.length; i++) {
        const k = key(ids[i], ids[i + 1])
        counts.set(k, (counts.get(k) as number) - word.count)
        touched.add(k)
      }
      word.ids = next
      for (let i = 0; i + 1 < next.length; i++) {
        add(next[i], next[i + 1], word.count, w)
        touched.add(key(next[i], next[i + 1]))
      }
    }
    where.delete(pair)
    counts.delete(pair)
    for (const k of touched) {
      const c = counts.get(k)
      if (c !== undefined && c > 0) heap.push(c, k)
    }
    options.onMerge?.(tokenBytes.length - 256, total)
  }
  return { merges }
}

/** Encodes bytes to token ids (and back) with a trained BPE. */
export class BpeTokenizer {
  readonly vocab: number
  /** Pair → rank of its merge (the first, if a pair were listed twice). */
  private readonly ranks = new Map<number, number>()
  private readonly vocabulary: Vocabulary
  /** Llama 3's rule (llama.cpp and tokenizers alike): a piece that is a token is that token, unmerged. */
  private readonly ignoreMerges: boolean
  private readonly cache = new Map<string, number[]>()
  readonly bpe: Bpe

  constructor (bpe: Bpe) {
    this.bpe = bpe
    this.vocabulary = vocabularyOf(bpe)
    this.vocab = this.vocabulary.bytes.length
    this.ignoreMerges = bpe.pre === 'llama3'
    bpe.merges.forEach(([a, b], k) => { if (!this.ranks.has(key(a, b))) this.ranks.set(key(a, b), k) })
  }

  /** Token ids of one piece: merges applied lowest rank first, leftmost on ties. */
  private encodePiece (piece: Uint8Array): number[] {
    const k = Buffer.from(piece).toString('latin1')
    const cached = this.cache.get(k)
    if (cached !== undefined) return cached
    const whole = this.ignoreMerges ? this.vocabulary.ids.get(k) : undefined
    const ids = whole !== undefined ? [whole] : Array.from(piece, b => this.vocabulary.byteIds[b])
    for (;;) {
      let best = -1
      let rank = Infinity
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.ranks.get(key(ids[i], ids[i + 1]))
        if (r !== undefined && r < rank) { rank = r; best = i }
      }
      if (best < 0) break
      ids.splice(best, 2, this.vocabulary.made[rank])
    }
    if (this.cache.size < 1 << 16) this.cache.set(k, ids)
    return ids
  }

  /** The ids of text (special tokens' texts are encoded as text, as llama.cpp does by default). */
  encode (data: Uint8Array): Int32Array {
    const out: number[] = []
    for (const piece of pieces(data, this.bpe.pre)) for (const id of this.encodePiece(piece)) out.push(id)
    return Int32Array.from(out)
  }

  decode (ids: ArrayLike<number>): Uint8Array {
    const parts: Uint8Array[] = []
    for (let i = 0; i < ids.length; i++) {
      const part = this.vocabulary.bytes[ids[i]] ?? this.specialBytes(ids[i])
      parts.push(part)
    }
    return Buffer.concat(parts)
  }

  private specialBytes (id: number): Uint8Array {
    const text = this.vocabulary.special.get(id)
    if (text === undefined) throw new TokenizerError(`token ${id} is not in this vocabulary of ${this.vocab}`)
    return Buffer.from(text, 'utf8')
  }

  /** The special tokens, by id and text. */
  specialTokens (): Array<{ id: number, content: string }> {
    return [...this.vocabulary.special].map(([id, content]) => ({ id, content }))
  }

  /** Each token spelled as byte-level BPE spells it (GGUF and tokenizer.json vocabularies); a special token as its text. */
  tokenStrings (): string[] {
    const chars = byteToUnicode()
    return this.vocabulary.bytes.map((bytes, id) => bytes === null ? this.vocabulary.special.get(id) as string : Array.from(bytes, b => chars[b]).join(''))
  }

  /** The merges as "left right" strings (GGUF and tokenizer.json). */
  mergeStrings (): string[] {
    const tokens = this.tokenStrings()
    return this.bpe.merges.map(([a, b]) => `${tokens[a]} ${tokens[b]}`)
  }
}
