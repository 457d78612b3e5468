import type { Address } from 'viem'
import { datasetDaoAbi, proposalState } from '@commons/chain'
import { at, cidString, type ExplorerContext } from '../context.ts'
import { NotIndexedError } from '../errors.ts'
import { daoHeads } from './datasets.ts'

/** DAOs from the index (members, proposals and votes, forks, treasury over time); states read live. */

export function listDaoViews (ctx: ExplorerContext) {
  const created = ctx.index.events({ contract: 'daoFactory', names: ['DaoCreated'] })
  return daoHeads(ctx).map((h, i) => ({ ...h, created: at(created[i]) }))
}

export async function daoView (ctx: ExplorerContext, address: string) {
  const dao = address.toLowerCase()
  const self = listDaoViews(ctx).find(d => d.dao === dao)
  if (self === undefined) throw new NotIndexedError(`no DAO at ${address} was made by this deployment's factory`, { hint: 'the DAOs page lists them', details: { address } })
  const events = ctx.index.events({ contract: 'dao', address: dao })
  const shares = new Map<string, string>()
  for (const e of events) if (e.name === 'SharesChanged') shares.set(String(e.args.member).toLowerCase(), String(e.args.newShares))
  const members = [...shares].filter(([, s]) => BigInt(s) > 0n).map(([account, s]) => ({ account, shares: s }))
  const proposals = await Promise.all(events.filter(e => e.name === 'ProposalCreated').map(async e => {
    const id = String(e.args.proposalId)
    const of = events.filter(v => String(v.args.proposalId) === id)
    return {
      id,
      description: String(e.args.description),
      proposer: String(e.args.proposer).toLowerCase(),
      created: at(e),
      state: await proposalState(ctx.clients, dao as Address, BigInt(id)),
      votes: of.filter(v => v.name === 'VoteCast').map(v => ({ voter: String(v.args.voter).toLowerCase(), support: ['against', 'for', 'abstain'][Number(v.args.support)] ?? String(v.args.support), weight: String(v.args.weight), ...at(v) })),
      timeline: of.map(v => ({ event: v.name, ...at(v) }))
    }
  }))
  const treasury = await ctx.clients.public.readContract({ address: dao as Address, abi: datasetDaoAbi, functionName: 'treasury' })
  const forks = listDaoViews(ctx).filter(d => d.parent === dao).map(d => {
    const executed = events.find(e => e.name === 'ForkExecuted' && String(e.args.forkDao).toLowerCase() === d.dao)
    return { dao: d.dao, forkPoint: d.forkPoint, shares: executed === undefined ? null : String(executed.args.shares), treasury: executed === undefined ? null : String(executed.args.treasury) }
  })
  return {
    ...self,
    members,
    treasury: treasury.toString(),
    treasuryHistory: treasuryHistory(ctx, dao),
    proposals,
    forks,
    heads: events.filter(e => e.name === 'HeadChanged').map(e => ({ previous: cidString(e.args.oldHead), head: cidString(e.args.newHead), proposalId: String(e.args.proposalId), ...at(e) })),
    jobsFunded: events.filter(e => e.name === 'JobFunded').map(e => ({ job: String(e.args.jobId), reward: String(e.args.reward), ...at(e) }))
  }
}

/** The DAO's token balance after each transfer in or out: its treasury over time. */
function treasuryHistory (ctx: ExplorerContext, dao: string): Array<{ time: number, block: number, balance: string }> {
  let balance = 0n
  const points: Array<{ time: number, block: number, balance: string }> = []
  for (const e of ctx.index.events({ contract: 'token', names: ['Transfer'] })) {
    const from = String(e.args.from).toLowerCase()
    const to = String(e.args.to).toLowerCase()
    if (from !== dao && to !== dao) continue
    if (to === dao) balance += BigInt(String(e.args.value))
    if (from === dao) balance -= BigInt(String(e.args.value))
    points.push({ time: e.time, block: e.block, balance: balance.toString() })
  }
  return points
}
