import { randomBytes } from 'node:crypto'
import { bytesToHex, type Address, type Hex, type TransactionReceipt } from 'viem'
import { send, type Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import { NotDeployedError } from './errors.ts'
import { commonsTokenAbi, scoringEpochsAbi } from './generated/contracts.ts'

/** ScoringEpochs' phases, as phaseOf returns them. */
export const SCORING_PHASES = ['not started', 'commit', 'reveal', 'over'] as const
export type ScoringPhase = typeof SCORING_PHASES[number]

/** A validator's weight of one service; any scale (the contract normalises to sum 1). */
export interface ServiceWeight {
  service: bigint
  weight: bigint
}

/** What a validator keeps between its commit and its reveal. */
export interface WeightCommitment {
  epoch: bigint
  validator: Address
  serviceIds: bigint[]
  weights: bigint[]
  salt: Hex
  commitment: Hex
}

export interface ScoringSchedule {
  genesis: bigint
  epochLength: bigint
  commitLength: bigint
}

export interface EpochResult {
  epoch: bigint
  pool: bigint
  settled: boolean
  validators: Address[]
  /** Per service weighed this epoch: the consensus weight (1e18 = all) and the provider's payout. */
  services: Array<{ service: bigint, consensus: bigint, payout: bigint }>
  /** Per revealed validator: the stake it counted with and its payout. */
  validatorPayouts: Array<{ validator: Address, stake: bigint, payout: bigint }>
}

/** The ScoringEpochs address of a deployment, or a NotDeployedError for a manifest from before it. */
export function scoringContract (deployment: Deployment): Address {
  const address = deployment.contracts.scoringEpochs
  if (address === undefined) {
    throw new NotDeployedError('this deployment has no ScoringEpochs contract', {
      hint: 'it was deployed before scoring: run commons chain deploy --force', details: { contracts: Object.keys(deployment.contracts) }
    })
  }
  return address
}

export async function readScoringSchedule (clients: Clients, deployment: Deployment): Promise<ScoringSchedule> {
  const address = scoringContract(deployment)
  const [genesis, epochLength, commitLength] = await Promise.all((['genesis', 'epochLength', 'commitLength'] as const).map(async functionName =>
    clients.public.readContract({ address, abi: scoringEpochsAbi, functionName })))
  return { genesis: BigInt(genesis), epochLength: BigInt(epochLength), commitLength: BigInt(commitLength) }
}

/** When `epoch`'s commit phase starts, when its reveal phase starts, when it is over (unix seconds). */
export function epochTimes (schedule: ScoringSchedule, epoch: bigint): { start: bigint, reveal: bigint, end: bigint } {
  const start = schedule.genesis + epoch * schedule.epochLength
  return { start, reveal: start + schedule.commitLength, end: start + schedule.epochLength }
}

/** The epoch and phase at unix time `now` (the chain's clock, not this machine's). */
export function epochAt (schedule: ScoringSchedule, now: bigint): { epoch: bigint, phase: ScoringPhase } {
  if (now < schedule.genesis) return { epoch: 0n, phase: 'not started' }
  const epoch = (now - schedule.genesis) / schedule.epochLength
  return { epoch, phase: now < epochTimes(schedule, epoch).reveal ? 'commit' : 'reveal' }
}

/** Sorts weights by service (the contract wants them strictly ascending) and hashes them with a fresh salt. */
export async function prepareCommitment (clients: Clients, deployment: Deployment, epoch: bigint, weights: ServiceWeight[]): Promise<WeightCommitment> {
  const sorted = [...weights].sort((a, b) => a.service < b.service ? -1 : a.service > b.service ? 1 : 0)
  const serviceIds = sorted.map(w => w.service)
  const values = sorted.map(w => w.weight)
  const salt = bytesToHex(randomBytes(32))
  const validator = clients.account.address
  const commitment = await clients.public.readContract({
    address: scoringContract(deployment), abi: scoringEpochsAbi, functionName: 'commitHash', args: [epoch, validator, serviceIds, values, salt]
  })
  return { epoch, validator, serviceIds, weights: values, salt, commitment }
}

/** Commits hidden weights for an epoch in its commit phase; keep the returned commitment to reveal it. */
export async function commitWeights (clients: Clients, deployment: Deployment, epoch: bigint, weights: ServiceWeight[]): Promise<WeightCommitment> {
  const c = await prepareCommitment(clients, deployment, epoch, weights)
  await send(clients, { address: scoringContract(deployment), abi: scoringEpochsAbi, functionName: 'commit', args: [epoch, c.commitment] })
  return c
}

/** Reveals committed weights, in the epoch's reveal phase. */
export async function revealWeights (clients: Clients, deployment: Deployment, c: WeightCommitment): Promise<TransactionReceipt> {
  return send(clients, { address: scoringContract(deployment), abi: scoringEpochsAbi, functionName: 'reveal', args: [c.epoch, c.serviceIds, c.weights, c.salt] })
}

/** Adds `amount` to an epoch's reward pool (approving it first). */
export async function fundEpoch (clients: Clients, deployment: Deployment, epoch: bigint, amount: bigint): Promise<TransactionReceipt> {
  const address = scoringContract(deployment)
  await send(clients, { address: deployment.contracts.token, abi: commonsTokenAbi, functionName: 'approve', args: [address, amount] })
  return send(clients, { address, abi: scoringEpochsAbi, functionName: 'fund', args: [epoch, amount] })
}

/** Settles an epoch that is over (anyone may). */
export async function settleEpoch (clients: Clients, deployment: Deployment, epoch: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: scoringContract(deployment), abi: scoringEpochsAbi, functionName: 'settle', args: [epoch] })
}

/** Pays a service's provider its payout of a settled epoch (anyone may; the provider is paid). */
export async function claimProviderReward (clients: Clients, deployment: Deployment, epoch: bigint, service: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: scoringContract(deployment), abi: scoringEpochsAbi, functionName: 'claimProvider', args: [epoch, service] })
}

/** Pays a validator its payout of a settled epoch (anyone may; the validator is paid). */
export async function claimValidatorReward (clients: Clients, deployment: Deployment, epoch: bigint, validator: Address): Promise<TransactionReceipt> {
  return send(clients, { address: scoringContract(deployment), abi: scoringEpochsAbi, functionName: 'claimValidator', args: [epoch, validator] })
}

/** An epoch's pool, consensus and payouts (zero payouts until it is settled). */
export async function readEpoch (clients: Clients, deployment: Deployment, epoch: bigint): Promise<EpochResult> {
  const address = scoringContract(deployment)
  const [pool, settled, validators, serviceIds] = await clients.public.readContract({ address, abi: scoringEpochsAbi, functionName: 'epochOf', args: [epoch] })
  const services = await Promise.all(serviceIds.map(async service => ({
    service,
    consensus: await clients.public.readContract({ address, abi: scoringEpochsAbi, functionName: 'consensusOf', args: [epoch, service] }),
    payout: await clients.public.readContract({ address, abi: scoringEpochsAbi, functionName: 'providerPayout', args: [epoch, service] })
  })))
  const validatorPayouts = await Promise.all(validators.map(async validator => ({
    validator,
    stake: await clients.public.readContract({ address, abi: scoringEpochsAbi, functionName: 'revealedStake', args: [epoch, validator] }),
    payout: await clients.public.readContract({ address, abi: scoringEpochsAbi, functionName: 'validatorPayout', args: [epoch, validator] })
  })))
  return { epoch, pool, settled, validators: [...validators], services, validatorPayouts }
}
