import type { Hex } from 'viem'
import { commonsTokenAbi, readStake, roleBits, ROLES, send, stakeRegistryAbi, type RoleName } from '@commons/chain'
import type { Context } from './context.ts'
import { peerIdBytes } from './peerId.ts'

/**
 * Registers the node's peer id and roles in the StakeRegistry when they are not there
 * yet (or changed), and tops its stake up to `stake`; skipped, with a note, while the
 * account has no gas money. The registered peer id is what lets challengers tell this
 * trainer's own trace announcements from forged ones.
 */
export async function ensureRegistered (ctx: Context, stake?: bigint): Promise<void> {
  const { clients, options } = ctx
  const me = clients.account.address
  if (await clients.public.getBalance({ address: me }) === 0n) {
    ctx.log(`not registered in the StakeRegistry yet: ${me} has no ETH for gas`)
    return
  }
  const record = await readStake(clients, options.deployment, me)
  const peerId: Hex = peerIdBytes(ctx.network.peerId)
  const roles = roleBits(options.roles.filter((r): r is RoleName => r in ROLES))
  if (record.peerId.toLowerCase() !== peerId.toLowerCase() || record.roles !== roles) {
    await send(clients, { address: options.deployment.contracts.registry, abi: stakeRegistryAbi, functionName: 'register', args: [peerId, roles] })
    ctx.log(`registered peer ${ctx.network.peerId} with roles ${options.roles.join(', ')}`)
  }
  if (stake !== undefined && record.staked < stake) {
    const more = stake - record.staked
    await send(clients, { address: options.deployment.contracts.token, abi: commonsTokenAbi, functionName: 'approve', args: [options.deployment.contracts.registry, more] })
    await send(clients, { address: options.deployment.contracts.registry, abi: stakeRegistryAbi, functionName: 'stake', args: [more] })
    ctx.log(`staked ${more} more (now ${stake})`)
  }
}
