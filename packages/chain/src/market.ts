import { type Address, type Hex, type TransactionReceipt } from 'viem'
import { asRevertError, send, type Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import { commonsTokenAbi, trainingMarketAbi } from './generated/contracts.ts'
import { jobStatuses } from './generated/enums.ts'
import { cidToHex } from './cids.ts'
import { receiptEvent } from './receiptEvent.ts'

/** What a training job binds (docs/design.md §5), in the units the contract takes. */
export interface JobSpec {
  datasetCid: string
  tokensRoot: Hex
  recipeCid: string
  programHash: Hex
  /** The hash of the model file's header template (modelHeader.ts: `modelHeaderOf(recipe, tokensRoot)`). */
  modelHeader: Hex
  seed: bigint
  steps: number
  reward: bigint
  jobStake: bigint
  /** Seconds a claim lasts. */
  trainingTime: bigint
  /** Seconds after submission before the job can be finalised. */
  challengeWindow: bigint
}

/** TrainingMarket's job Status, in its order. */
export const JOB_STATUS = jobStatuses

export function specToContract (spec: JobSpec) {
  return {
    datasetCid: cidToHex(spec.datasetCid),
    tokensRoot: spec.tokensRoot,
    recipeCid: cidToHex(spec.recipeCid),
    programHash: spec.programHash,
    modelHeader: spec.modelHeader,
    seed: spec.seed,
    steps: spec.steps,
    reward: spec.reward,
    jobStake: spec.jobStake,
    trainingTime: spec.trainingTime,
    challengeWindow: spec.challengeWindow
  }
}

/** The job id a transaction created, from its JobPosted event. */
export function jobIdFrom (receipt: TransactionReceipt, market: Address): bigint {
  return receiptEvent(receipt, trainingMarketAbi, 'JobPosted', market).args.jobId
}

/** Escrows the reward (approving it) and posts the job; returns its id. */
export async function postJob (clients: Clients, deployment: Deployment, spec: JobSpec, treasury: Address = '0x0000000000000000000000000000000000000000'): Promise<{ jobId: bigint, receipt: TransactionReceipt }> {
  const { token, market } = deployment.contracts
  await send(clients, { address: token, abi: commonsTokenAbi, functionName: 'approve', args: [market, spec.reward] })
  const receipt = await send(clients, { address: market, abi: trainingMarketAbi, functionName: 'postJob', args: [specToContract(spec), treasury] })
  return { jobId: jobIdFrom(receipt, market), receipt }
}

export async function claimJob (clients: Clients, deployment: Deployment, jobId: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: deployment.contracts.market, abi: trainingMarketAbi, functionName: 'claim', args: [jobId] })
}

export async function submitResult (clients: Clients, deployment: Deployment, params: { jobId: bigint, modelCid: string, transcriptRoot: Hex, steps: number }): Promise<TransactionReceipt> {
  return send(clients, { address: deployment.contracts.market, abi: trainingMarketAbi, functionName: 'submitResult', args: [params.jobId, cidToHex(params.modelCid), params.transcriptRoot, params.steps] })
}

export async function attestJob (clients: Clients, deployment: Deployment, jobId: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: deployment.contracts.market, abi: trainingMarketAbi, functionName: 'attest', args: [jobId] })
}

export async function finalizeJob (clients: Clients, deployment: Deployment, jobId: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: deployment.contracts.market, abi: trainingMarketAbi, functionName: 'finalize', args: [jobId] })
}

export async function cancelJob (clients: Clients, deployment: Deployment, jobId: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: deployment.contracts.market, abi: trainingMarketAbi, functionName: 'cancel', args: [jobId] })
}

export async function readJob (clients: Clients, deployment: Deployment, jobId: bigint, blockTag: 'latest' | 'pending' = 'latest') {
  let job
  try {
    job = await clients.public.readContract({ address: deployment.contracts.market, abi: trainingMarketAbi, functionName: 'getJob', args: [jobId], blockTag })
  } catch (error) {
    throw asRevertError(error, `reading job ${jobId}`)
  }
  return { ...job, statusName: JOB_STATUS[job.status] }
}

/**
 * Until when a submitted job's result can still be disputed (seconds): the end of its
 * challenge window, or of the hold that answers to record queries extend it by
 * (TrainingMarket.extendHold: one move time after each of an asker's first eight answers).
 */
export async function disputableUntil (clients: Clients, deployment: Deployment, jobId: bigint, job: { submittedAt: bigint, spec: { challengeWindow: bigint } }): Promise<bigint> {
  const held = await clients.public.readContract({ address: deployment.contracts.market, abi: trainingMarketAbi, functionName: 'holdUntil', args: [jobId] })
  const ends = job.submittedAt + job.spec.challengeWindow
  return held > ends ? held : ends
}
