import { parseEther, type Address } from 'viem'
import { send, type Clients } from './clients.ts'
import { deployOne } from './deploy.ts'
import {
  forwardVerifierAbi, forwardVerifierBytecode, inferenceDisputesAbi, inferenceDisputesBytecode, paymentChannelAbi, paymentChannelBytecode, scoringEpochsAbi, scoringEpochsBytecode, serviceRegistryAbi, serviceRegistryBytecode,
  samplingProverAbi, samplingProverBytecode, stakeRegistryAbi
} from './generated/contracts.ts'

export interface InferenceParams {
  /** Seconds between retiring a service and releasing its stake (a receipt can be disputed meanwhile). */
  serviceUnbondingDelay?: bigint
  /** Least stake a service holds, in token units. */
  minServiceStake?: bigint
  /** Seconds of a scoring epoch, and of its commit phase (the rest is the reveal phase). */
  scoringEpochLength?: bigint
  scoringCommitLength?: bigint
  /** Share of each scoring pool paid to validators, in basis points. */
  scoringValidatorShareBps?: number
  /** Least bonded stake of a validator that commits weights. */
  minScoringStake?: bigint
  /** Where a slashed provider's stake goes, beyond the challenger's share; governance by default. */
  inferenceTreasury?: Address
}

/** Defaults: three days to dispute the answers of a retired service, 10 COM at stake. */
export const DEFAULT_SERVICE_UNBONDING_DELAY = 3n * 24n * 3600n
export const DEFAULT_MIN_SERVICE_STAKE = parseEther('10')
/** A day per scoring epoch, committed in its first 18 hours; a fifth of a pool to validators. */
export const DEFAULT_SCORING_EPOCH = 24n * 3600n
export const DEFAULT_SCORING_COMMIT = 18n * 3600n
export const DEFAULT_SCORING_VALIDATOR_SHARE_BPS = 2_000
export const DEFAULT_MIN_SCORING_STAKE = parseEther('1')

export interface InferenceContracts {
  serviceRegistry: Address
  paymentChannel: Address
  scoringEpochs: Address
  inferenceDisputes: Address
}

/**
 * Deploys the inference market beside the StakeRegistry: the ServiceRegistry, allowed to
 * lock providers' stake, the PaymentChannel, ScoringEpochs (validators' scores of the
 * services, epoch 0 starting at its deployment) and InferenceDisputes (a generated token
 * disputed on a ForwardVerifier: the step verifier's ops, and a SamplingProver's for the
 * sampling ops of sampled answers), allowed to slash services. The caller still owns the
 * ServiceRegistry and InferenceDisputes (deploy hands them to governance with the rest);
 * `gas` gets each deployment's gas.
 */
export async function deployInference (clients: Clients, set: { registry: Address, token: Address, stepVerifier: Address, treasury: Address }, params: InferenceParams, gas: Record<string, unknown>): Promise<InferenceContracts> {
  const { registry, token } = set
  const services = await deployOne(clients, serviceRegistryAbi, serviceRegistryBytecode, [
    registry, clients.account.address, params.serviceUnbondingDelay ?? DEFAULT_SERVICE_UNBONDING_DELAY, params.minServiceStake ?? DEFAULT_MIN_SERVICE_STAKE
  ])
  const channels = await deployOne(clients, paymentChannelAbi, paymentChannelBytecode, [token])
  const scoring = await deployOne(clients, scoringEpochsAbi, scoringEpochsBytecode, [
    token, registry, services.address, params.scoringEpochLength ?? DEFAULT_SCORING_EPOCH, params.scoringCommitLength ?? DEFAULT_SCORING_COMMIT,
    params.scoringValidatorShareBps ?? DEFAULT_SCORING_VALIDATOR_SHARE_BPS, params.minScoringStake ?? DEFAULT_MIN_SCORING_STAKE
  ])
  const sampling = await deployOne(clients, samplingProverAbi, samplingProverBytecode, [], undefined, 'the sampling prover')
  const verifier = await deployOne(clients, forwardVerifierAbi, forwardVerifierBytecode, [set.stepVerifier, sampling.address], undefined, 'the forward verifier')
  const disputes = await deployOne(clients, inferenceDisputesAbi, inferenceDisputesBytecode, [
    token, services.address, verifier.address, channels.address, clients.account.address, params.inferenceTreasury ?? set.treasury
  ], undefined, 'the inference disputes')
  await send(clients, { address: registry, abi: stakeRegistryAbi, functionName: 'setLocker', args: [services.address, true] })
  await send(clients, { address: services.address, abi: serviceRegistryAbi, functionName: 'setSlasher', args: [disputes.address, true] })
  gas.serviceRegistry = services.gas
  gas.paymentChannel = channels.gas
  gas.scoringEpochs = scoring.gas
  gas.samplingProver = sampling.gas
  gas.forwardVerifier = verifier.gas
  gas.inferenceDisputes = disputes.gas
  return { serviceRegistry: services.address, paymentChannel: channels.address, scoringEpochs: scoring.address, inferenceDisputes: disputes.address }
}
