import { recoverTypedDataAddress, type Account, type Address, type Hex } from 'viem'
import type { Deployment } from './deploy.ts'
import { NotDeployedError } from './errors.ts'

/**
 * A client's promise to its provider: "on `channel` I owe you `cumulative` in all". It
 * is an EIP-712 signature over the chain id and the PaymentChannel contract (the domain)
 * and the channel id, so it is good on one channel of one contract on one chain; a newer
 * voucher replaces the older ones, and the total is paid at most once.
 */
export interface Voucher {
  channel: Hex
  cumulative: bigint
  signature: Hex
}

/** A voucher as JSON carries it (the amount as a decimal string). */
export interface VoucherJson {
  channel: Hex
  cumulative: string
  signature: Hex
}

export const VOUCHER_TYPES = { Voucher: [{ name: 'channel', type: 'bytes32' }, { name: 'cumulative', type: 'uint256' }] } as const

/** The inference contracts of a deployment, or a NotDeployedError for a manifest from before them. */
export function inferenceContracts (deployment: Deployment): { serviceRegistry: Address, paymentChannel: Address } {
  const { serviceRegistry, paymentChannel } = deployment.contracts
  if (serviceRegistry === undefined || paymentChannel === undefined) {
    throw new NotDeployedError('this deployment has no inference contracts (ServiceRegistry, PaymentChannel)', {
      hint: 'it was deployed before them: run commons chain deploy --force', details: { contracts: Object.keys(deployment.contracts) }
    })
  }
  return { serviceRegistry, paymentChannel }
}

function voucherDomain (deployment: Deployment) {
  return { name: 'Commons PaymentChannel', version: '1', chainId: deployment.chainId, verifyingContract: inferenceContracts(deployment).paymentChannel } as const
}

/** Signs a voucher for `cumulative` on `channel` with `account` (the channel's client). */
export async function signVoucher (account: Account, deployment: Deployment, channel: Hex, cumulative: bigint): Promise<Voucher> {
  if (account.signTypedData === undefined) throw new NotDeployedError('this account cannot sign typed data', { hint: 'use a local key (--key, --account N)' })
  const signature = await account.signTypedData({ domain: voucherDomain(deployment), types: VOUCHER_TYPES, primaryType: 'Voucher', message: { channel, cumulative } })
  return { channel, cumulative, signature }
}

/** Who signed a voucher, for this deployment's chain and contract. */
export async function voucherSigner (deployment: Deployment, voucher: Voucher): Promise<Address> {
  return recoverTypedDataAddress({
    domain: voucherDomain(deployment), types: VOUCHER_TYPES, primaryType: 'Voucher',
    message: { channel: voucher.channel, cumulative: voucher.cumulative }, signature: voucher.signature
  })
}

export const voucherToJson = (v: Voucher): VoucherJson => ({ channel: v.channel, cumulative: v.cumulative.toString(), signature: v.signature })
export const voucherFromJson = (v: VoucherJson): Voucher => ({ channel: v.channel, cumulative: BigInt(v.cumulative), signature: v.signature })
