import type { Bpe } from './bpe.ts'
import { vocabularyOf, type Token } from './vocabulary.ts'

/**
 * For tests: the vocabulary of a trained BPE laid out as published models lay theirs out
 * (special tokens first, the rest in a fixed shuffled order, so no byte is its own id),
 * with `pre` as its pre-tokenizer. The merges are the same, renumbered.
 */
export function publishedLayout (bpe: Bpe, specials: readonly string[], pre: Bpe['pre'] = 'llama3'): Bpe {
  const { bytes } = vocabularyOf(bpe)
  const order = bytes.map((_, id) => id)
  let x = 12345
  for (let i = order.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    const j = x % (i + 1)
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  const newId = new Map(order.map((old, i) => [old, specials.length + i]))
  const vocabulary: Token[] = [...specials.map(special => ({ special })), ...order.map(old => ({ bytes: bytes[old] as Uint8Array }))]
  const merges = bpe.merges.map(([a, b]): [number, number] => [newId.get(a) as number, newId.get(b) as number])
  return { merges, vocabulary, pre }
}
