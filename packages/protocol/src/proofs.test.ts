import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { keccak_256 as keccak } from '@noble/hashes/sha3'
import { nodeProof, nodeRoot, referenceTensorRoot, rootFromNodeProof, tensorRoot } from './commit.ts'
import { proveElements, proveLeaves, rootFromProof } from './proofs.ts'
import { uniform } from './prng.ts'
import { tensorData as tensor } from './words.ts'

let draws = 0
const random = (): number => uniform(33, 0, draws++)

describe('Merkle proofs of elements and ranges', () => {
  it('prove every kind of range of tensors of many lengths', () => {
    for (const length of [1, 7, 8, 9, 16, 17, 63, 64, 65, 129, 1000, 4097]) {
      const t = tensor(Float32Array.from({ length }, (_, i) => i % 11 === 3 ? NaN : (random() - 0.5) * 10))
      const root = referenceTensorRoot(t)
      assert.deepEqual(tensorRoot(t), root)
      const leaves = Math.ceil(length / 8)
      for (let trial = 0; trial < 12; trial++) {
        const a = Math.floor(random() * leaves)
        const b = Math.min(leaves - 1, a + Math.floor(random() * 5))
        assert.deepEqual(rootFromProof(proveLeaves(t, a, b)), root, `length ${length}, leaves ${a}..${b}`)
      }
      const i = Math.floor(random() * length)
      assert.deepEqual(rootFromProof(proveElements(t, i)), root)
      assert.deepEqual(rootFromProof(proveLeaves(t, 0, leaves - 1)), root, 'the whole tensor')
    }
  })

  it('a changed element or sibling gives another root', () => {
    const t = tensor(Float32Array.from({ length: 100 }, (_, i) => i))
    const root = referenceTensorRoot(t)
    const proof = proveElements(t, 42)
    const changed = { ...proof, words: proof.words.map((w, i) => i === 42 % 8 ? w ^ 1 : w) }
    assert.notDeepEqual(rootFromProof(changed), root)
    const sibling = { ...proof, siblings: proof.siblings.map((s, i) => i === 0 ? Uint8Array.from(s, (x, j) => j === 0 ? x ^ 1 : x) : s) }
    assert.notDeepEqual(rootFromProof(sibling), root)
    assert.throws(() => rootFromProof({ ...proof, siblings: proof.siblings.slice(1) }), { name: 'ProofError' })
  })

  it('i32 tensors (token streams) prove too', () => {
    const tokens = tensor(Int32Array.from({ length: 300 }, (_, i) => (i * 7919) % 256))
    assert.deepEqual(rootFromProof(proveElements(tokens, 120, 140)), referenceTensorRoot(tokens))
  })
})

describe('node proofs', () => {
  it('prove every node of levels of every size up to 40, and reject a wrong leaf', () => {
    for (let count = 1; count <= 40; count++) {
      const nodes = Array.from({ length: count }, (_, i) => keccak(Uint8Array.of(i, count)))
      const root = nodeRoot(nodes)
      for (let i = 0; i < count; i++) {
        const proof = nodeProof(nodes, i)
        assert.deepEqual(rootFromNodeProof(nodes[i], i, count, proof), root)
        if (count > 1) assert.notDeepEqual(rootFromNodeProof(nodes[(i + 1) % count], i, count, proof), root)
      }
    }
  })
})
