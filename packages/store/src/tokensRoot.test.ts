import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tokensRootOf } from '@commons/engine'
import { TokensRootBuilder } from './tokensRoot.ts'
import { generateRows, rowsToBytes } from './corpus.ts'

const PIECE = 8 << 17

function tokens (n: number, seed: number): Int32Array {
  const out = new Int32Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0
    out[i] = x
  }
  return out
}

/** Pushes `all` in uneven slices, as a stream of blocks would arrive. */
function builtRoot (all: Int32Array, slice: number): `0x${string}` {
  const builder = new TokensRootBuilder()
  for (let at = 0; at < all.length; at += slice) builder.push(all.subarray(at, at + slice))
  assert.equal(builder.count, all.length)
  return builder.root()
}

test('the incremental tokens root equals tokensRootOf at every boundary of a piece and a leaf', () => {
  const sizes = [0, 1, 7, 8, 9, 4095, PIECE - 1, PIECE, PIECE + 1, PIECE + 8, 2 * PIECE, 3 * PIECE + 5, 4 * PIECE, 5 * PIECE - 3]
  for (const n of sizes) {
    const all = tokens(n, n + 1)
    assert.equal(builtRoot(all, 100_003), tokensRootOf(all), `${n} tokens`)
  }
})

test('the incremental tokens root of the 25 MB corpus is bit for bit tokensRootOf of its byte tokens', () => {
  const bytes = rowsToBytes(generateRows(25_000_000, 1))
  const all = Int32Array.from(bytes)
  assert.equal(builtRoot(all, 65_536), tokensRootOf(all))
})
