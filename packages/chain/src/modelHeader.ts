import { bytesToHex, encodeAbiParameters, keccak256, type Hex } from 'viem'
import type { CID } from 'multiformats/cid'
import { fillTemplate, modelFileTemplate, type ModelFileTemplate, type Recipe } from '@commons/engine'
import type { TranscriptRecord } from '@commons/protocol'
import type { BlockReader } from '@commons/store'
import { send, type Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import { modelFileDisputesAbi } from './generated/contracts.ts'
import { buildFileRangeProof } from './modelFileProof.ts'
import { fileProofStruct, lastRecordClaim, modelFileGame, type ModelFileChallenge } from './modelFileDispute.ts'
import { receiptEvent } from './receiptEvent.ts'

/**
 * The model file's header, bound by its job (docs/design.md "The model file"): a job's
 * `modelHeader` is the hash of the header template of its recipe and tokens root
 * (`ModelFileDisputes.templateHash`), and a run whose file does not start with that
 * template filled with S_T's and the transcript's roots, or does not end at its length,
 * loses in one call (`challengeHeader`).
 */

/** ModelFileDisputes.templateHash: keccak256(abi.encode(prefix, middle, suffix, length)). */
export function templateHash (template: ModelFileTemplate): Hex {
  return keccak256(encodeAbiParameters(
    [{ type: 'bytes' }, { type: 'bytes' }, { type: 'bytes' }, { type: 'uint256' }],
    [bytesToHex(template.prefix), bytesToHex(template.middle), bytesToHex(template.suffix), template.length]
  ))
}

/** The `modelHeader` term of a job training `recipe` (with the job's seed and steps) on `tokensRoot`. */
export function modelHeaderOf (recipe: Recipe, tokensRoot: Hex): Hex {
  return templateHash(modelFileTemplate(recipe, tokensRoot))
}

/**
 * Whether a run's model file (its bytes, or undefined if the run has none) has the header
 * and length the template gives for these roots.
 */
export function headerMatches (file: Uint8Array | undefined, template: ModelFileTemplate, stateRoot: Hex, transcriptRoot: Hex): boolean {
  if (file === undefined) return false
  const header = fillTemplate(template, stateRoot, transcriptRoot)
  return BigInt(file.length) === template.length && Buffer.from(file.subarray(0, header.length)).equals(Buffer.from(header))
}

/** What a header challenge needs: the job, its recipe's template, and its transcript. */
export interface HeaderClaimInput {
  jobId: bigint
  template: ModelFileTemplate
  records: readonly TranscriptRecord[]
  transcriptRoot: Hex
}

/** The HeaderClaim struct of ModelFileDisputes.challengeHeader. */
export function headerClaim (input: HeaderClaimInput) {
  const { template } = input
  return {
    jobId: input.jobId,
    ...lastRecordClaim(input.records),
    prefix: bytesToHex(template.prefix),
    middle: bytesToHex(template.middle),
    suffix: bytesToHex(template.suffix),
    length: template.length
  }
}

/**
 * Proves on-chain that the run `run` of a submitted job holds a model file without the
 * header or length its job binds: the trainer loses a dispute in the market. Reverts
 * (`HeaderMatches`) for an honest file.
 */
export async function challengeModelHeader (clients: Clients, deployment: Deployment, blocks: BlockReader, run: CID, input: HeaderClaimInput): Promise<ModelFileChallenge> {
  const address = modelFileGame(deployment)
  const records = input.records
  const header = fillTemplate(input.template, records[records.length - 1].state, input.transcriptRoot)
  const proof = await buildFileRangeProof(blocks, run, header.length, input.template.length)
  const receipt = await send(clients, { address, abi: modelFileDisputesAbi, functionName: 'challengeHeader', args: [headerClaim(input), fileProofStruct(proof)] })
  const event = receiptEvent(receipt, modelFileDisputesAbi, 'ModelHeaderConvicted', address)
  return { number: event.args.number, fault: event.args.fault, gas: receipt.gasUsed, hash: receipt.transactionHash }
}
