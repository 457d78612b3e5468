import {
  CANONICAL_NAN, leafHashes, nodeProof, nodeRoot, openingStruct, proveElements, recordHashes, tensorRoots, toHex, wordOf,
  type ProgramHeader, type TensorData, type TranscriptRecord
} from '@commons/protocol'
import type { BlockReader } from '@commons/store'
import { bytesToHex, type Address, type Hex } from 'viem'
import type { CID } from 'multiformats/cid'
import { send, type Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import { ModelFileError } from './errors.ts'
import { modelFileDisputesAbi } from './generated/contracts.ts'
import { receiptEvent } from './receiptEvent.ts'
import { buildModelFileProof, type ModelFileProof } from './modelFileProof.ts'

/**
 * A model file whose weights are not S_T's (ModelFileDisputes.sol, docs/design.md "The
 * model file"): finding the first such weight in a run's file, building the one-call
 * claim, and sending it.
 */

function canonical (word: number): number {
  return (word & 0x7f800000) === 0x7f800000 && (word & 0x007fffff) !== 0 ? CANONICAL_NAN : word
}

/**
 * The first parameter element (slot, element) that the model file's bytes do not hold as
 * S_T holds it (the file read as the contract reads it: 8-byte little-endian header
 * length H, then each parameter's F32 words in slot order from 8 + H); a missing or too
 * short file names the first element it lacks. Null when every weight is S_T's.
 */
export function findModelFileLie (file: Uint8Array | undefined, params: readonly TensorData[]): { slot: number, element: number } | null {
  if (file === undefined || file.length < 8) return { slot: 0, element: 0 }
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.length)
  // Plain numbers in the loop: a header length past the end is the end (the first element is then lacking, as before).
  const start = 8n + bytes.readBigUInt64LE(0)
  let at = start > BigInt(bytes.length) ? bytes.length : Number(start)
  for (let slot = 0; slot < params.length; slot++) {
    const t = params[slot]
    for (let element = 0; element < t.data.length; element++, at += 4) {
      if (at + 4 > bytes.length) return { slot, element }
      if (canonical(bytes.readUInt32LE(at)) !== wordOf(t.data[element], 'f32')) return { slot, element }
    }
  }
  return null
}

/** What the S_T side of a claim needs: the job, its program header, the transcript, S_T's 3P slots. */
export interface ModelClaimInput {
  jobId: bigint
  header: ProgramHeader
  records: readonly TranscriptRecord[]
  /** S_T: params, m, v (3P tensors), the state of the last record. */
  slots: readonly TensorData[]
  slot: number
  element: number
}

/** The Claim struct of ModelFileDisputes.challenge, and the element's offset among the parameters. */
export function modelClaim (input: ModelClaimInput): { claim: ReturnType<typeof claimStruct>, paramOffset: bigint } {
  const { slots, slot, element } = input
  if (slot >= input.header.paramSlots || element >= slots[slot].data.length) {
    throw new ModelFileError(`parameter slot ${slot} has no element ${element}`, { hint: 'name an element of S_T\'s parameters' })
  }
  let paramOffset = BigInt(element)
  for (let i = 0; i < slot; i++) paramOffset += BigInt(slots[i].data.length)
  return { claim: claimStruct(input), paramOffset }
}

function claimStruct (input: ModelClaimInput) {
  const { slots, slot, element } = input
  const before = slots.slice(0, slot)
  return {
    jobId: input.jobId,
    header: input.header,
    ...lastRecordClaim(input.records),
    slotRoots: tensorRoots(slots).map(toHex),
    paramTrees: before.map(t => toHex(nodeRoot(leafHashes(t)))),
    paramLengths: before.map(t => BigInt(t.data.length)),
    slot: BigInt(slot),
    element: BigInt(element),
    opening: openingStruct(proveElements(slots[slot], element))
  }
}

/** The FileProof struct of ModelFileDisputes.challenge. */
export function fileProofStruct (proof: Pick<ModelFileProof, 'commit' | 'tree' | 'head' | 'word'>) {
  const segments = (list: ModelFileProof['head']) => list.map(s => ({ nodes: s.nodes.map(n => bytesToHex(n)), leaf: bytesToHex(s.leaf) }))
  return { commit: bytesToHex(proof.commit), tree: bytesToHex(proof.tree), head: segments(proof.head), word: segments(proof.word) }
}

/** What a model-file challenge settled: the market's dispute number and the fault found. */
export interface ModelFileChallenge {
  number: number
  fault: number
  gas: bigint
  hash: Hex
}

/**
 * Proves on-chain that the run `run` of a submitted job holds a model file whose weight
 * at (slot, element) is not S_T's: the trainer loses a dispute in the market. Reverts
 * (`WeightMatches`) if the file holds S_T's weight there.
 */
export async function challengeModelFile (clients: Clients, deployment: Deployment, blocks: BlockReader, run: CID, input: ModelClaimInput): Promise<ModelFileChallenge> {
  const address = modelFileGame(deployment)
  const { claim, paramOffset } = modelClaim(input)
  const proof = await buildModelFileProof(blocks, run, paramOffset)
  const receipt = await send(clients, { address, abi: modelFileDisputesAbi, functionName: 'challenge', args: [claim, fileProofStruct(proof)] })
  const event = receiptEvent(receipt, modelFileDisputesAbi, 'ModelFileConvicted', address)
  return { number: event.args.number, fault: event.args.fault, gas: receipt.gasUsed, hash: receipt.transactionHash }
}

/** The deployment's ModelFileDisputes contract. */
export function modelFileGame (deployment: Deployment): Address {
  const address = deployment.contracts.modelFileDisputes
  if (address === undefined) throw new ModelFileError('this deployment has no ModelFileDisputes contract', { hint: 'deploy the contracts again (commons chain deploy)' })
  return address
}

/** Record T of a transcript and its proof against the transcript root, as the claims carry them. */
export function lastRecordClaim (records: readonly TranscriptRecord[]): { last: { state: Hex, lossBits: number }, lastProof: Hex[] } {
  const last = records.length - 1
  return { last: { state: records[last].state as Hex, lossBits: wordOf(records[last].loss, 'f32') }, lastProof: nodeProof(recordHashes(records), last).map(toHex) }
}
