import type { Address } from 'viem'
import { ROLES, readStake, tokenBalance } from '@commons/chain'
import { at, type ExplorerContext } from '../context.ts'

/** Accounts: stakes and locks read live; registrations, slashes and rewards from the index. */

function rolesOf (bits: number): string[] {
  return Object.entries(ROLES).filter(([, bit]) => (bits & bit) === bit).map(([name]) => name)
}

/** Every account that registered with the stake registry, with its stake now. */
export async function listAccountViews (ctx: ExplorerContext) {
  const registered = ctx.index.events({ contract: 'registry', names: ['Registered'] })
  const slashed = ctx.index.events({ contract: 'registry', names: ['Slashed'] })
  return Promise.all(registered.map(async e => {
    const account = String(e.args.node).toLowerCase()
    const node = await readStake(ctx.clients, ctx.deployment, account as Address)
    return {
      account, roles: rolesOf(Number(e.args.roles)), staked: node.staked.toString(), locked: node.locked.toString(),
      slashed: slashed.filter(s => String(s.args.node).toLowerCase() === account).reduce((sum, s) => sum + BigInt(String(s.args.amount)), 0n).toString()
    }
  }))
}

export async function accountView (ctx: ExplorerContext, address: string) {
  const account = address.toLowerCase()
  const node = await readStake(ctx.clients, ctx.deployment, account as Address)
  const registry = ctx.index.events({ contract: 'registry' }).filter(e => [e.args.node, e.args.beneficiary].some(v => String(v).toLowerCase() === account))
  const market = ctx.index.events({ contract: 'market', names: ['JobFinalized', 'JobClaimed', 'Attested', 'JobPosted', 'DisputeResolved', 'JobSlashed'] })
    .filter(e => [e.args.trainer, e.args.validator, e.args.requester, e.args.challenger].some(v => String(v).toLowerCase() === account))
  return {
    account,
    roles: rolesOf(node.roles),
    stake: { staked: node.staked.toString(), locked: node.locked.toString(), unbonding: node.unbonding.toString() },
    balance: (await tokenBalance(ctx.clients, ctx.deployment, account as Address)).toString(),
    slashes: registry.filter(e => e.name === 'Slashed' && String(e.args.node).toLowerCase() === account).map(e => ({ amount: String(e.args.amount), ...at(e) })),
    // What it was paid: a finalized job's share as its trainer, a slash's share as the challenger.
    rewards: [
      ...market.filter(e => e.name === 'JobFinalized' && String(e.args.trainer).toLowerCase() === account).map(e => ({ kind: 'trained job ' + String(e.args.jobId), amount: String(e.args.toTrainer), ...at(e) })),
      ...registry.filter(e => e.name === 'Slashed' && String(e.args.beneficiary).toLowerCase() === account).map(e => ({ kind: 'challenger share of a slash', amount: String(e.args.toBeneficiary), ...at(e) }))
    ],
    history: [...registry, ...market].sort((x, y) => x.block - y.block || x.logIndex - y.logIndex).map(e => ({ event: e.name, ...at(e), args: e.args }))
  }
}
