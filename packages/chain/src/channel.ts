import type { Address, Hex, TransactionReceipt } from 'viem'
import { send, type Clients } from './clients.ts'
import { inferenceContracts, type Voucher } from './channelVoucher.ts'
import type { Deployment } from './deploy.ts'
import { commonsTokenAbi, paymentChannelAbi } from './generated/contracts.ts'

/** A payment channel as the PaymentChannel contract keeps it. */
export interface ChannelState {
  id: Hex
  client: Address
  provider: Address
  /** Everything the client put in. */
  deposit: bigint
  /** Everything paid to the provider. */
  claimed: bigint
  /** Unix seconds from which the client may reclaim. */
  expiry: bigint
  open: boolean
}

const ZERO = `0x${'0'.repeat(64)}` as Hex

/** Opens the caller's channel to `provider` with `amount` until `expiry` (approving it first); returns its id. */
export async function openChannel (clients: Clients, deployment: Deployment, params: { provider: Address, amount: bigint, expiry: bigint }): Promise<Hex> {
  const { paymentChannel } = inferenceContracts(deployment)
  await send(clients, { address: deployment.contracts.token, abi: commonsTokenAbi, functionName: 'approve', args: [paymentChannel, params.amount] })
  await send(clients, { address: paymentChannel, abi: paymentChannelAbi, functionName: 'open', args: [params.provider, params.amount, params.expiry] })
  return await channelBetween(clients, deployment, clients.account.address, params.provider) as Hex
}

/** Adds `amount` to the caller's channel and moves its expiry to `expiry`. */
export async function topUpChannel (clients: Clients, deployment: Deployment, params: { channel: Hex, amount: bigint, expiry: bigint }): Promise<TransactionReceipt> {
  const { paymentChannel } = inferenceContracts(deployment)
  if (params.amount > 0n) await send(clients, { address: deployment.contracts.token, abi: commonsTokenAbi, functionName: 'approve', args: [paymentChannel, params.amount] })
  return send(clients, { address: paymentChannel, abi: paymentChannelAbi, functionName: 'topUp', args: [params.channel, params.amount, params.expiry] })
}

/** Claims what `voucher` adds to what was claimed on its channel (paid to the provider). */
export async function claimVoucher (clients: Clients, deployment: Deployment, voucher: Voucher): Promise<TransactionReceipt> {
  return send(clients, { address: inferenceContracts(deployment).paymentChannel, abi: paymentChannelAbi, functionName: 'claim', args: [voucher.channel, voucher.cumulative, voucher.signature] })
}

/** Closes the caller's expired channel and takes back what was not claimed. */
export async function reclaimChannel (clients: Clients, deployment: Deployment, channel: Hex): Promise<TransactionReceipt> {
  return send(clients, { address: inferenceContracts(deployment).paymentChannel, abi: paymentChannelAbi, functionName: 'reclaim', args: [channel] })
}

export async function readChannel (clients: Clients, deployment: Deployment, channel: Hex): Promise<ChannelState> {
  const c = await clients.public.readContract({ address: inferenceContracts(deployment).paymentChannel, abi: paymentChannelAbi, functionName: 'channel', args: [channel] })
  return { id: channel, client: c.client, provider: c.provider, deposit: c.deposit, claimed: c.claimed, expiry: BigInt(c.expiry), open: c.open }
}

/** The channel `client` has open to `provider`, or null. */
export async function channelBetween (clients: Clients, deployment: Deployment, client: Address, provider: Address): Promise<Hex | null> {
  const id = await clients.public.readContract({ address: inferenceContracts(deployment).paymentChannel, abi: paymentChannelAbi, functionName: 'channelOf', args: [client, provider] })
  return id === ZERO ? null : id
}
