import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { tensorRoot } from './commit.ts'
import { openingsFor } from './elements.ts'
import { OPCODE } from './opcodes.ts'
import type { ProgramOp } from './program.ts'
import { proveLeaves, rootFromProof, ProofError } from './proofs.ts'
import { uniform } from './prng.ts'
import { tensorData } from './words.ts'
import { proveWindowElements, proveWindowLeaves, WINDOW_PIECE_HEIGHT } from './windowProofs.ts'

let draws = 0
const random = (): number => uniform(41, 0, draws++)
const tokens = (length: number): Int32Array => Int32Array.from({ length }, () => Math.floor(random() * 70_000) - 5)

/** Windows of an array, each read a copy (as a stored stream gives them), counting what was read. */
function windows (data: Int32Array): { length: number, subarray: (b: number, e: number) => Int32Array, read: number } {
  const view = { length: data.length, read: 0, subarray: (b: number, e: number) => { view.read += Math.max(0, Math.min(e, data.length) - b); return data.slice(b, e) } }
  return view
}

describe('range proofs over a tensor read by windows', () => {
  it('are proveLeaves\' proofs bit for bit, at every piece height and at the edges', () => {
    for (const length of [1, 7, 8, 9, 17, 64, 65, 129, 1000, 4097]) {
      const data = tokens(length)
      const leaves = Math.ceil(length / 8)
      const ranges = [[0, 0], [leaves - 1, leaves - 1], [0, leaves - 1]]
      for (let trial = 0; trial < 6; trial++) {
        const a = Math.floor(random() * leaves)
        ranges.push([a, Math.min(leaves - 1, a + Math.floor(random() * 4))])
      }
      for (const pieceHeight of [0, 1, 3, WINDOW_PIECE_HEIGHT]) {
        for (const [a, b] of ranges) {
          assert.deepEqual(proveWindowLeaves(windows(data), a, b, pieceHeight), proveLeaves(tensorData(data), a, b), `length ${length}, leaves ${a}..${b}, pieces of height ${pieceHeight}`)
        }
      }
    }
  })

  it('prove an element of a stream longer than one piece, reading it once', () => {
    const data = tokens(8 * 2 ** WINDOW_PIECE_HEIGHT * 2 + 12_345)
    const root = tensorRoot(tensorData(data))
    for (const element of [0, 5, 8 * 2 ** WINDOW_PIECE_HEIGHT + 3, data.length - 1]) {
      const source = windows(data)
      const proof = proveWindowElements(source, element)
      assert.deepEqual(rootFromProof(proof), root)
      assert.ok(source.read <= data.length, `read ${source.read} tokens of ${data.length}`)
    }
  })

  it('give a WINDOW element the same openings from a stream as from the whole tensor (what a challenger sends)', () => {
    const data = tokens(5000)
    const [batch, width, window] = [4, 16, 16]
    for (const offset of [0, 1]) {
      const op: ProgramOp = { code: OPCODE.WINDOW, dtype: 'i32', dims: [batch, width], inputs: [{ kind: 'tokens', index: 0 }], attrs: [batch, width, offset, window] }
      for (let e = 0; e < batch * width; e += 7) {
        const ctx = { seed: 9, step: e }
        assert.deepEqual(openingsFor(op, e, ctx, [windows(data)]), openingsFor(op, e, ctx, [tensorData(data)]), `offset ${offset}, element ${e}`)
      }
    }
  })

  it('refuse leaves outside the tensor', () => {
    assert.throws(() => proveWindowLeaves(windows(tokens(20)), 2, 3), (e: Error) => e instanceof ProofError && e.name === 'ProofError')
  })
})
