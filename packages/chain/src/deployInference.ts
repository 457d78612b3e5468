import { parseEther, type Address } from 'viem'
import { send, type Clients } from './clients.ts'
import { deployOne } from './deploy.ts'
import { paymentChannelAbi, paymentChannelBytecode, serviceRegistryAbi, serviceRegistryBytecode, stakeRegistryAbi } from './generated/contracts.ts'

export interface InferenceParams {
  /** Seconds between retiring a service and releasing its stake (a receipt can be disputed meanwhile). */
  serviceUnbondingDelay?: bigint
  /** Least stake a service holds, in token units. */
  minServiceStake?: bigint
}

/** Defaults: three days to dispute the answers of a retired service, 10 COM at stake. */
export const DEFAULT_SERVICE_UNBONDING_DELAY = 3n * 24n * 3600n
export const DEFAULT_MIN_SERVICE_STAKE = parseEther('10')

/**
 * Deploys the inference market beside the StakeRegistry: the ServiceRegistry, allowed to
 * lock providers' stake, and the PaymentChannel. The caller still owns the ServiceRegistry
 * (deploy hands it to governance with the rest); `gas` gets each deployment's gas.
 */
export async function deployInference (clients: Clients, registry: Address, token: Address, params: InferenceParams, gas: Record<string, unknown>): Promise<{ serviceRegistry: Address, paymentChannel: Address }> {
  const services = await deployOne(clients, serviceRegistryAbi, serviceRegistryBytecode, [
    registry, clients.account.address, params.serviceUnbondingDelay ?? DEFAULT_SERVICE_UNBONDING_DELAY, params.minServiceStake ?? DEFAULT_MIN_SERVICE_STAKE
  ])
  const channels = await deployOne(clients, paymentChannelAbi, paymentChannelBytecode, [token])
  await send(clients, { address: registry, abi: stakeRegistryAbi, functionName: 'setLocker', args: [services.address, true] })
  gas.serviceRegistry = services.gas
  gas.paymentChannel = channels.gas
  return { serviceRegistry: services.address, paymentChannel: channels.address }
}
