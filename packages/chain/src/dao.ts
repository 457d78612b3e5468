import { decodeEventLog, encodeFunctionData, keccak256, stringToHex, type Address, type Hex, type TransactionReceipt } from 'viem'
import { send, type Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import { datasetDaoAbi, datasetDaoFactoryAbi } from './generated/contracts.ts'
import { proposalStates } from './generated/enums.ts'
import { cidToHex, hexToCid } from './cids.ts'
import { specToContract, type JobSpec } from './market.ts'
import { InvalidChainInputError } from './errors.ts'
import { allEvents, findDeploymentBlock } from './logs.ts'

export interface DaoParams {
  votingDelay: number
  votingPeriod: number
  timelockDelay: number
  quorumBps: number
  forkThresholdBps: number
  forkPeriod: number
  /** Seconds a passed proposal may wait to be queued, and then to be executed, before it expires. */
  executionPeriod: number
}

/**
 * Devnet defaults: short enough to walk through by hand, every value governable. The
 * snapshot is `votingDelay` seconds after the proposal and voting opens the second after
 * it (OpenZeppelin's Governor), so a delay of 0 opens voting one second after proposing.
 */
export const DEFAULT_DAO_PARAMS: DaoParams = { votingDelay: 0, votingPeriod: 60, timelockDelay: 10, quorumBps: 2000, forkThresholdBps: 2000, forkPeriod: 3600, executionPeriod: 86400 }

/** OpenZeppelin Governor's states, in its order. */
export const PROPOSAL_STATES = proposalStates
export type ProposalStateName = typeof PROPOSAL_STATES[number]

/** One call a proposal makes. */
export interface Action {
  target: Address
  value: bigint
  data: Hex
}

function eventArgs (receipt: TransactionReceipt, address: Address, abi: typeof datasetDaoAbi | typeof datasetDaoFactoryAbi, name: string): Record<string, unknown> {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address.toLowerCase()) continue
    try {
      const event = decodeEventLog({ abi, data: log.data, topics: log.topics }) as { eventName: string, args: Record<string, unknown> }
      if (event.eventName === name) return event.args
    } catch {}
  }
  throw new Error(`no ${name} event in the receipt`)
}

/** Creates the DAO of a dataset with its founding members; returns its address. */
export async function createDao (clients: Clients, deployment: Deployment, params: { name: string, head: string, members: Array<{ account: Address, shares: bigint }>, params?: DaoParams }): Promise<{ dao: Address, receipt: TransactionReceipt }> {
  if (params.members.length === 0) throw new InvalidChainInputError('a DAO needs at least one member', { hint: 'pass --member ADDRESS:SHARES' })
  const receipt = await send(clients, {
    address: deployment.contracts.daoFactory,
    abi: datasetDaoFactoryAbi,
    functionName: 'createDao',
    args: [params.name, cidToHex(params.head), params.members.map(m => m.account), params.members.map(m => m.shares), params.params ?? DEFAULT_DAO_PARAMS]
  })
  return { dao: eventArgs(receipt, deployment.contracts.daoFactory, datasetDaoFactoryAbi, 'DaoCreated').dao as Address, receipt }
}

export const actions = {
  setHead: (dao: Address, cid: string): Action => ({ target: dao, value: 0n, data: encodeFunctionData({ abi: datasetDaoAbi, functionName: 'setHead', args: [cidToHex(cid)] }) }),
  admitMember: (dao: Address, account: Address, shares: bigint): Action => ({ target: dao, value: 0n, data: encodeFunctionData({ abi: datasetDaoAbi, functionName: 'admitMember', args: [account, shares] }) }),
  adoptModel: (dao: Address, jobId: bigint, modelCid: string): Action => ({ target: dao, value: 0n, data: encodeFunctionData({ abi: datasetDaoAbi, functionName: 'adoptModel', args: [jobId, cidToHex(modelCid)] }) }),
  setParams: (dao: Address, params: DaoParams): Action => ({ target: dao, value: 0n, data: encodeFunctionData({ abi: datasetDaoAbi, functionName: 'setParams', args: [params] }) }),
  fundJob: (dao: Address, market: Address, spec: JobSpec): Action => ({ target: dao, value: 0n, data: encodeFunctionData({ abi: datasetDaoAbi, functionName: 'fundJob', args: [market, specToContract(spec)] }) })
}

/** Proposes `actions`; returns the proposal id (the Governor's hash of the calls and the description). */
export async function propose (clients: Clients, dao: Address, proposal: { actions: Action[], description: string }): Promise<{ proposalId: bigint, receipt: TransactionReceipt }> {
  const receipt = await send(clients, {
    address: dao,
    abi: datasetDaoAbi,
    functionName: 'propose',
    args: [proposal.actions.map(a => a.target), proposal.actions.map(a => a.value), proposal.actions.map(a => a.data), proposal.description]
  })
  return { proposalId: eventArgs(receipt, dao, datasetDaoAbi, 'ProposalCreated').proposalId as bigint, receipt }
}

export const SUPPORT = { against: 0, for: 1, abstain: 2 } as const

export async function vote (clients: Clients, dao: Address, proposalId: bigint, support: keyof typeof SUPPORT): Promise<TransactionReceipt> {
  return send(clients, { address: dao, abi: datasetDaoAbi, functionName: 'castVote', args: [proposalId, SUPPORT[support]] })
}

export async function proposalState (clients: Clients, dao: Address, proposalId: bigint): Promise<ProposalStateName> {
  return PROPOSAL_STATES[await clients.public.readContract({ address: dao, abi: datasetDaoAbi, functionName: 'state', args: [proposalId], blockTag: 'pending' })]
}

/**
 * The calls and description hash of a proposal, read back from its ProposalCreated event
 * (the Governor queues and executes by them; its event does not index the id).
 */
async function proposalCalls (clients: Clients, dao: Address, proposalId: bigint, fromBlock?: bigint): Promise<readonly [readonly Address[], readonly bigint[], readonly Hex[], Hex]> {
  const events = await allEvents(clients, { address: dao, abi: datasetDaoAbi, eventName: 'ProposalCreated', fromBlock: await daoFromBlock(clients, dao, fromBlock) })
  const event = events.find(e => e.args.proposalId === proposalId)
  if (event === undefined) throw new InvalidChainInputError(`proposal ${proposalId} does not exist in ${dao}`, { hint: 'commons dao show DAO lists the proposals' })
  return [event.args.targets ?? [], event.args.values ?? [], event.args.calldatas ?? [], keccak256(stringToHex(event.args.description ?? ''))]
}

/**
 * The block a DAO's events are read from: `fromBlock` when the caller knows it (the
 * deployment's block: every DAO of the factory is younger), else the block the DAO was
 * created in. Log reads then span the DAO's life only, in bounded windows.
 */
async function daoFromBlock (clients: Clients, dao: Address, fromBlock: bigint | undefined): Promise<bigint> {
  return fromBlock ?? await findDeploymentBlock(clients, dao)
}

/** Starts the timelock of a proposal that passed (`fromBlock`: where its events are searched from, see daoFromBlock). */
export async function queue (clients: Clients, dao: Address, proposalId: bigint, fromBlock?: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: dao, abi: datasetDaoAbi, functionName: 'queue', args: await proposalCalls(clients, dao, proposalId, fromBlock) })
}

/** Executes a queued proposal whose timelock has passed. */
export async function execute (clients: Clients, dao: Address, proposalId: bigint, fromBlock?: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: dao, abi: datasetDaoAbi, functionName: 'execute', args: await proposalCalls(clients, dao, proposalId, fromBlock) })
}

export async function escrowToFork (clients: Clients, dao: Address, shares: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: dao, abi: datasetDaoAbi, functionName: 'escrowToFork', args: [shares] })
}

/** Takes escrowed shares back before the fork executes: the way back from a fork below its threshold. */
export async function withdrawFromForkEscrow (clients: Clients, dao: Address, shares: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: dao, abi: datasetDaoAbi, functionName: 'withdrawFromForkEscrow', args: [shares] })
}

/** The caller's shares in the current fork escrow of `dao`. */
export async function escrowedSharesOf (clients: Clients, dao: Address, member: Address): Promise<bigint> {
  const round = await clients.public.readContract({ address: dao, abi: datasetDaoAbi, functionName: 'forkRound', blockTag: 'pending' })
  return clients.public.readContract({ address: dao, abi: datasetDaoAbi, functionName: 'escrowedShares', args: [round, member], blockTag: 'pending' })
}

/** During a fork's join period, moves shares held before the fork (and their part of the treasury) into it. */
export async function joinFork (clients: Clients, dao: Address, shares: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: dao, abi: datasetDaoAbi, functionName: 'joinFork', args: [shares] })
}

/** Executes the fork once the escrow passed the threshold; returns the new DAO. */
export async function executeFork (clients: Clients, dao: Address): Promise<{ fork: Address, treasury: bigint, receipt: TransactionReceipt }> {
  const receipt = await send(clients, { address: dao, abi: datasetDaoAbi, functionName: 'executeFork', args: [] })
  const args = eventArgs(receipt, dao, datasetDaoAbi, 'ForkExecuted')
  return { fork: args.forkDao as Address, treasury: args.treasury as bigint, receipt }
}

/** Everything about a DAO, with its head history and proposals read from events (from `fromBlock`, see daoFromBlock). */
export async function readDao (clients: Clients, dao: Address, fromBlock?: bigint) {
  const read = <F extends 'name' | 'head' | 'parent' | 'forkPoint' | 'treasury' | 'totalShares' | 'params' | 'escrowedTotal' | 'lastFork'>(functionName: F) =>
    clients.public.readContract({ address: dao, abi: datasetDaoAbi, functionName } as never) as Promise<unknown>
  const code = await clients.public.getCode({ address: dao })
  if (code === undefined || code === '0x') throw new InvalidChainInputError(`there is no DAO at ${dao}`, { hint: 'check the address; commons dao list shows the DAOs of the factory' })
  const [name, head, parent, forkPoint, treasury, totalShares, params, escrowedTotal] = await Promise.all(
    (['name', 'head', 'parent', 'forkPoint', 'treasury', 'totalShares', 'params', 'escrowedTotal'] as const).map(read))
  const [votingDelay, votingPeriod, timelockDelay, quorumBps, forkThresholdBps, forkPeriod, executionPeriod] = params as number[]
  // One head for every read, so the lists agree with each other.
  const span = { fromBlock: await daoFromBlock(clients, dao, fromBlock), toBlock: await clients.public.getBlockNumber() }
  const heads = await allEvents(clients, { address: dao, abi: datasetDaoAbi, eventName: 'HeadChanged', ...span })
  const shareEvents = await allEvents(clients, { address: dao, abi: datasetDaoAbi, eventName: 'SharesChanged', ...span })
  const members = new Map<string, bigint>()
  for (const e of shareEvents) members.set(e.args.member as string, e.args.newShares as bigint)
  const created = await allEvents(clients, { address: dao, abi: datasetDaoAbi, eventName: 'ProposalCreated', ...span })
  const proposals = await Promise.all(created.map(async e => {
    const [againstVotes, forVotes, abstainVotes] = await clients.public.readContract({ address: dao, abi: datasetDaoAbi, functionName: 'proposalVotes', args: [e.args.proposalId as bigint] })
    return {
      id: e.args.proposalId as bigint,
      description: e.args.description as string,
      state: await proposalState(clients, dao, e.args.proposalId as bigint),
      forVotes,
      againstVotes,
      abstainVotes
    }
  }))
  const forks = await allEvents(clients, { address: dao, abi: datasetDaoAbi, eventName: 'ForkExecuted', ...span })
  return {
    address: dao,
    name: name as string,
    head: hexToCid(head as Hex)?.toString() ?? null,
    lineage: { parent: parent as Address, forkPoint: hexToCid(forkPoint as Hex)?.toString() ?? null },
    treasury: treasury as bigint,
    totalShares: totalShares as bigint,
    escrowedToFork: escrowedTotal as bigint,
    params: { votingDelay, votingPeriod, timelockDelay, quorumBps, forkThresholdBps, forkPeriod, executionPeriod },
    members: [...members].filter(([, shares]) => shares > 0n).map(([account, shares]) => ({ account, shares })),
    headHistory: heads.map(e => ({ from: hexToCid(e.args.oldHead as Hex)?.toString() ?? null, to: hexToCid(e.args.newHead as Hex)?.toString() ?? null, proposalId: e.args.proposalId as bigint, block: e.blockNumber })),
    proposals,
    forks: forks.map(e => ({ dao: e.args.forkDao as Address, shares: e.args.shares as bigint, treasury: e.args.treasury as bigint, forkPoint: hexToCid(e.args.forkPoint as Hex)?.toString() ?? null }))
  }
}

/** Every DAO the factory created, oldest first, with its lineage. */
export async function listDaos (clients: Clients, deployment: Deployment) {
  const events = await allEvents(clients, { address: deployment.contracts.daoFactory, abi: datasetDaoFactoryAbi, eventName: 'DaoCreated', fromBlock: BigInt(deployment.block) })
  return events.map(e => ({ dao: e.args.dao as Address, name: e.args.name as string, parent: e.args.parent as Address, head: hexToCid(e.args.head as Hex)?.toString() ?? null }))
}
