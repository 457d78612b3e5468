import { EMPTY, finishRoot, hashPair, tensorData, tensorMerkleRoot, toHex, WINDOW_PIECE_HEIGHT, type Hash } from '@commons/protocol/merkle'

/** Elements per piece hashed at once: 2^17 leaves of 8 tokens (4 MiB of tokens); range proofs over a stored stream start from the same pieces. */
const PIECE_HEIGHT = WINDOW_PIECE_HEIGHT
const PIECE_TOKENS = 8 << PIECE_HEIGHT

/**
 * The tokens root of a token stream (the engine's tokensRootOf: the i32 tensor root of
 * docs/design.md §5) built as the tokens arrive, in memory bounded by one piece.
 * Whole pieces of 8 * 2^17 tokens are hashed by the Merkle kernel into the node at
 * height 17 over them; those nodes are folded in a frontier (one pending left node per
 * height above), and the last, partial piece is lifted to height 17 by pairing with
 * the empty chain, exactly as the plain tree pads an odd node.
 */
export class TokensRootBuilder {
  /** Told each whole piece's node as it is hashed (a stored stream keeps them: proofs over it start there). */
  readonly #onPiece: ((node: Hash, index: number) => void) | undefined
  #piece = new Int32Array(PIECE_TOKENS)
  #filled = 0
  #pieces = 0
  #count = 0
  /** frontier[h]: the left node at height PIECE_HEIGHT + h still waiting for its right partner. */
  readonly #frontier: Array<Hash | undefined> = []

  constructor (options: { onPiece?: (node: Hash, index: number) => void } = {}) {
    this.#onPiece = options.onPiece
  }

  /** Tokens taken so far. */
  get count (): number { return this.#count }

  /** Adds tokens at the end of the stream (the array may be reused after the call). */
  push (tokens: Int32Array): void {
    let at = 0
    while (at < tokens.length) {
      const take = Math.min(tokens.length - at, PIECE_TOKENS - this.#filled)
      this.#piece.set(tokens.subarray(at, at + take), this.#filled)
      this.#filled += take
      at += take
      if (this.#filled === PIECE_TOKENS) this.#flushPiece()
    }
    this.#count += tokens.length
  }

  #flushPiece (): void {
    let node = tensorMerkleRoot(tensorData(this.#piece))
    this.#onPiece?.(node, this.#pieces)
    let h = 0
    while (this.#frontier[h] !== undefined) {
      node = hashPair(this.#frontier[h] as Hash, node)
      this.#frontier[h] = undefined
      h++
    }
    this.#frontier[h] = node
    this.#pieces++
    this.#filled = 0
  }

  /** The root of all tokens pushed, as tokensRootOf gives it (0x-prefixed hex). */
  root (): `0x${string}` {
    return toHex(finishRoot(this.#merkleRoot(), this.#count, 'i32'))
  }

  #merkleRoot (): Hash {
    const partial = this.#filled === 0 ? null : tensorMerkleRoot(tensorData(this.#piece.subarray(0, this.#filled)))
    if (this.#pieces === 0) return partial ?? EMPTY[0]
    // The partial piece's tree stands alone up to its own height; above it the node is
    // the last of an odd level at each height up to PIECE_HEIGHT.
    let carry: Hash | null = null
    if (partial !== null) {
      carry = partial
      for (let h = Math.ceil(Math.log2(Math.ceil(this.#filled / 8))); h < PIECE_HEIGHT; h++) carry = hashPair(carry, EMPTY[h])
    }
    let size = this.#pieces + (partial === null ? 0 : 1)
    let h = 0
    for (; size > 1; h++) {
      const left = this.#frontier[h]
      if (carry === null) {
        if (left !== undefined) carry = hashPair(left, EMPTY[PIECE_HEIGHT + h])
      } else {
        carry = left !== undefined ? hashPair(left, carry) : hashPair(carry, EMPTY[PIECE_HEIGHT + h])
      }
      size = Math.ceil(size / 2)
    }
    return carry ?? this.#frontier[h] as Hash
  }
}

/** The tokens root of a stream of token arrays, in bounded memory. */
export async function tokensRootOfStream (source: AsyncIterable<Int32Array> | Iterable<Int32Array>): Promise<{ root: `0x${string}`, count: number }> {
  const builder = new TokensRootBuilder()
  for await (const tokens of source) builder.push(tokens)
  return { root: builder.root(), count: builder.count }
}
