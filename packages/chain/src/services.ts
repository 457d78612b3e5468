import { type Address, type Hex, type TransactionReceipt } from 'viem'
import { send, type Clients } from './clients.ts'
import { inferenceContracts } from './channelVoucher.ts'
import { receiptEvent } from './receiptEvent.ts'
import type { Deployment } from './deploy.ts'
import { serviceRegistryAbi } from './generated/contracts.ts'

/** A provider's offer of a model, as the ServiceRegistry keeps it. */
export interface ServiceRecord {
  id: bigint
  provider: Address
  /** State root of the weights served. */
  modelRoot: Hex
  /** CID of the weights (bytes). */
  modelCid: Hex
  /** Token units per 1,000 tokens, prompt and output. */
  pricePer1k: bigint
  /** Where to reach it: a libp2p multiaddr ending in /p2p/<peer id>, or an http URL. */
  endpoint: string
  stake: bigint
  /** Non-zero once retiring: when its stake is released. */
  releaseAt: bigint
}

export interface RegisterServiceParams {
  modelRoot: Hex
  modelCid: Hex
  pricePer1k: bigint
  endpoint: string
  /** Locked from the caller's free stake in the StakeRegistry. */
  stake: bigint
}

/** Registers a service of the caller; returns its id. */
export async function registerService (clients: Clients, deployment: Deployment, params: RegisterServiceParams): Promise<bigint> {
  const receipt = await send(clients, {
    address: inferenceContracts(deployment).serviceRegistry, abi: serviceRegistryAbi, functionName: 'register',
    args: [params.modelRoot, params.modelCid, params.pricePer1k, params.endpoint, params.stake]
  })
  return receiptEvent(receipt, serviceRegistryAbi, 'ServiceRegistered').args.service
}

/** Changes the price and endpoint of a live service of the caller. */
export async function updateService (clients: Clients, deployment: Deployment, id: bigint, params: { pricePer1k: bigint, endpoint: string }): Promise<TransactionReceipt> {
  return send(clients, { address: inferenceContracts(deployment).serviceRegistry, abi: serviceRegistryAbi, functionName: 'update', args: [id, params.pricePer1k, params.endpoint] })
}

/** Retires a service of the caller: no longer offered, its stake released after the delay. */
export async function retireService (clients: Clients, deployment: Deployment, id: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: inferenceContracts(deployment).serviceRegistry, abi: serviceRegistryAbi, functionName: 'retire', args: [id] })
}

export async function readService (clients: Clients, deployment: Deployment, id: bigint): Promise<ServiceRecord> {
  const s = await clients.public.readContract({ address: inferenceContracts(deployment).serviceRegistry, abi: serviceRegistryAbi, functionName: 'service', args: [id] })
  return { id, provider: s.provider, modelRoot: s.modelRoot, modelCid: s.modelCid, pricePer1k: s.pricePer1k, endpoint: s.endpoint, stake: s.stake, releaseAt: BigInt(s.releaseAt) }
}

/** Every service offered now (registered, not retiring), oldest first. */
export async function liveServices (clients: Clients, deployment: Deployment): Promise<ServiceRecord[]> {
  const count = await clients.public.readContract({ address: inferenceContracts(deployment).serviceRegistry, abi: serviceRegistryAbi, functionName: 'serviceCount' })
  const all = await Promise.all(Array.from({ length: Number(count) }, async (_, i) => readService(clients, deployment, BigInt(i + 1))))
  return all.filter(s => s.releaseAt === 0n && s.stake > 0n)
}
