import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, type Address } from 'viem'
import { proveLeaves, referenceTensorRoot, rootFromProof, tensorData, toHex, uniform, wordBytes, type RangeProof } from '@commons/protocol'
import { tensorMerkleHarnessAbi, tensorMerkleHarnessBytecode, type Clients } from './index.ts'
import { deployForTest, type DeployedForTest } from './testing.ts'

/** The Solidity verifier recomputes the protocol's tensor roots from its proofs. */

let draws = 0
const random = (): number => uniform(77, 0, draws++)
let contract: DeployedForTest
let clients: Clients
let harness: Address
before(async () => {
  contract = await deployForTest(tensorMerkleHarnessAbi, tensorMerkleHarnessBytecode)
  clients = contract.clients
  harness = contract.address
})
after(async () => { await contract?.stop() })

async function onChainRoot (proof: RangeProof): Promise<string> {
  return clients.public.readContract({
    address: harness,
    abi: tensorMerkleHarnessAbi,
    functionName: 'rootFromRange',
    args: [BigInt(proof.length), proof.dtype === 'f32' ? 0 : 1, BigInt(proof.firstLeaf), bytesToHex(wordBytes(proof.words)), proof.siblings.map(s => bytesToHex(s))]
  })
}

describe('TensorMerkle (Solidity) against the protocol', () => {
  it('verifies element and range proofs of tensors of many lengths', async () => {
    for (const length of [1, 8, 9, 65, 1000, 4097, 100_000]) {
      const t = tensorData(Float32Array.from({ length }, (_, i) => i % 13 === 1 ? NaN : (random() - 0.5) * 100))
      const root = toHex(referenceTensorRoot(t))
      const leaves = Math.ceil(length / 8)
      for (let trial = 0; trial < 6; trial++) {
        const a = Math.floor(random() * leaves)
        const b = Math.min(leaves - 1, a + Math.floor(random() * 16))
        assert.equal(await onChainRoot(proveLeaves(t, a, b)), root, `length ${length}, leaves ${a}..${b}`)
      }
    }
    const tokens = tensorData(Int32Array.from({ length: 5000 }, (_, i) => (i * 31) % 256))
    assert.equal(await onChainRoot(proveLeaves(tokens, 100, 115)), toHex(referenceTensorRoot(tokens)))
  })

  it('gives another root for a changed element, and refuses malformed proofs', async () => {
    const t = tensorData(Float32Array.from({ length: 1000 }, (_, i) => i))
    const root = toHex(referenceTensorRoot(t))
    const proof = proveLeaves(t, 40, 41)
    assert.notEqual(await onChainRoot({ ...proof, words: proof.words.map((w, i) => i === 3 ? (w ^ 0x80000000) >>> 0 : w) }), root)
    await assert.rejects(onChainRoot({ ...proof, siblings: proof.siblings.slice(1) }), /MissingSibling|ExtraSiblings/)
    await assert.rejects(onChainRoot({ ...proof, words: proof.words.slice(1) }), /PartialLeaf/) // 7 words: not whole leaves
    await assert.rejects(onChainRoot({ ...proof, firstLeaf: 125 }), /RangePastEnd/)
  })

  it('refuses a last leaf whose padding is not zero, on-chain and in TypeScript alike', async () => {
    const t = tensorData(Float32Array.from({ length: 1001 }, (_, i) => i))
    const proof = proveLeaves(t, 124, 125) // 125 is the last leaf: one element, seven padding words
    assert.equal(await onChainRoot(proof), toHex(referenceTensorRoot(t)))
    assert.equal(toHex(rootFromProof(proof)), toHex(referenceTensorRoot(t)))
    const padded = { ...proof, words: proof.words.map((w, i) => i === 15 ? 1 : w) }
    await assert.rejects(onChainRoot(padded), /NonZeroPadding/)
    assert.throws(() => rootFromProof(padded), (e: Error) => e.name === 'ProofError')
  })
})
