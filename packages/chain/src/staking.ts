import { type Address, type Hex, type TransactionReceipt } from 'viem'
import { send, type Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import { commonsTokenAbi, stakeRegistryAbi } from './generated/contracts.ts'

/** Role bits of the StakeRegistry. */
export const ROLES = { trainer: 1, validator: 2, requester: 4, curator: 8 } as const
export type RoleName = keyof typeof ROLES

export function roleBits (roles: RoleName[]): number {
  return roles.reduce((bits, role) => bits | ROLES[role], 0)
}

/** Registers the caller's peer id and roles and stakes `amount` (approving it first). */
export async function registerAndStake (clients: Clients, deployment: Deployment, params: { peerId: Hex, roles: RoleName[], amount: bigint }): Promise<TransactionReceipt> {
  const { token, registry } = deployment.contracts
  await send(clients, { address: registry, abi: stakeRegistryAbi, functionName: 'register', args: [params.peerId, roleBits(params.roles)] })
  await send(clients, { address: token, abi: commonsTokenAbi, functionName: 'approve', args: [registry, params.amount] })
  return send(clients, { address: registry, abi: stakeRegistryAbi, functionName: 'stake', args: [params.amount] })
}

export async function readStake (clients: Clients, deployment: Deployment, node: Address) {
  return clients.public.readContract({ address: deployment.contracts.registry, abi: stakeRegistryAbi, functionName: 'nodeOf', args: [node] })
}

/** Moves tokens from the caller to `to` (funding accounts on a devnet). */
export async function transferTokens (clients: Clients, deployment: Deployment, to: Address, amount: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: deployment.contracts.token, abi: commonsTokenAbi, functionName: 'transfer', args: [to, amount] })
}

export async function tokenBalance (clients: Clients, deployment: Deployment, account: Address): Promise<bigint> {
  return clients.public.readContract({ address: deployment.contracts.token, abi: commonsTokenAbi, functionName: 'balanceOf', args: [account] })
}
