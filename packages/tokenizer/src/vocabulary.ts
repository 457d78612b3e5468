import type { Bpe } from './bpe.ts'
import { TokenizerError } from './errors.ts'

/**
 * A byte-level BPE's vocabulary: every token's bytes (or, for a special token, its
 * text), the token each merge makes, and the token of each single byte. A Commons
 * tokenizer's vocabulary is implicit (ids 0-255 are the bytes, then each merge's new
 * token in order); an imported model's is explicit, in its own order, with special
 * tokens (begin/end of text, chat markers) that no text encodes to.
 */

/** A token: its bytes, or the text of a special token. */
export type Token = { bytes: Uint8Array } | { special: string }

export interface Vocabulary {
  /** Bytes by id; null for a special token. */
  bytes: Array<Uint8Array | null>
  /** The text of each special token, by id. */
  special: Map<number, string>
  /** made[k]: the token merge k makes. */
  made: number[]
  /** The token of each byte value. */
  byteIds: Int32Array
  /** The token of each byte string (latin1 key), specials excluded. */
  ids: Map<string, number>
}

const keyOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1')

/** The vocabulary of `bpe`, checked: every byte has a token, every merge makes one. */
export function vocabularyOf (bpe: Pick<Bpe, 'merges' | 'vocabulary'>): Vocabulary {
  return bpe.vocabulary === undefined ? implicit(bpe.merges) : explicit(bpe.merges, bpe.vocabulary)
}

function implicit (merges: ReadonlyArray<readonly [number, number]>): Vocabulary {
  const bytes: Uint8Array[] = Array.from({ length: 256 }, (_, i) => Uint8Array.of(i))
  const ids = new Map<string, number>(bytes.map((b, i) => [keyOf(b), i]))
  const made = merges.map(([a, b], k) => {
    if (a >= bytes.length || b >= bytes.length) throw new TokenizerError(`merge ${k} uses a token not made yet (${a}, ${b})`)
    const joined = Buffer.concat([bytes[a], bytes[b]])
    let id = ids.get(keyOf(joined))
    if (id === undefined) {
      id = bytes.length
      ids.set(keyOf(joined), id)
      bytes.push(joined)
    }
    return id
  })
  return { bytes, special: new Map(), made, byteIds: Int32Array.from({ length: 256 }, (_, i) => i), ids }
}

function explicit (merges: ReadonlyArray<readonly [number, number]>, tokens: readonly Token[]): Vocabulary {
  const bytes: Array<Uint8Array | null> = []
  const special = new Map<number, string>()
  const ids = new Map<string, number>()
  tokens.forEach((token, id) => {
    if ('special' in token) {
      special.set(id, token.special)
      bytes.push(null)
      return
    }
    const key = keyOf(token.bytes)
    if (ids.has(key)) throw new TokenizerError(`tokens ${ids.get(key)} and ${id} spell the same bytes`)
    ids.set(key, id)
    bytes.push(token.bytes)
  })
  const byteIds = Int32Array.from({ length: 256 }, (_, b) => {
    const id = ids.get(String.fromCharCode(b))
    if (id === undefined) throw new TokenizerError(`the vocabulary has no token for the byte ${b}`, { hint: 'a byte-level BPE has a token for each of the 256 bytes' })
    return id
  })
  const made = merges.map(([a, b], k) => {
    const left = bytes[a]
    const right = bytes[b]
    if (left == null || right == null) throw new TokenizerError(`merge ${k} joins a token that is special or missing (${a}, ${b})`)
    const id = ids.get(keyOf(Buffer.concat([left, right])))
    if (id === undefined) throw new TokenizerError(`merge ${k} makes a token the vocabulary lacks (${a}, ${b})`)
    return id
  })
  return { bytes, special, made, byteIds, ids }
}
