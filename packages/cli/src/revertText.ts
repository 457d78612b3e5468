import { formatEther } from 'viem'
import { ContractRevertError } from '@commons/chain/core'
import type { BaseError } from '@commons/errors'

/** Whole tokens with the unit: amounts on-chain are in wei (18 decimals). */
export const tokens = (wei: string | bigint): string => `${formatEther(BigInt(wei))} COM`

const when = (seconds: string): string => {
  const ms = Number(seconds) * 1000
  return Number.isFinite(ms) && ms < 8.64e15 ? new Date(ms).toISOString().replace('.000Z', 'Z') : `${seconds} (Unix seconds)`
}

/** DatasetDao's own ProposalState, and OpenZeppelin Governor's (IGovernor.ProposalState). */
const DAO_STATES = ['pending', 'active', 'defeated', 'succeeded', 'queued', 'executed', 'canceled']
const GOVERNOR_STATES = ['pending', 'active', 'canceled', 'defeated', 'succeeded', 'queued', 'expired', 'executed']
const JOB_STATUSES = ['none', 'open', 'claimed', 'submitted', 'finalized', 'slashed', 'cancelled']
const name = (names: string[], value: string | undefined): string => names[Number(value)] ?? `state ${value}`

type Sentence = (args: string[]) => { message: string, hint?: string }

/**
 * Sentences for the contract errors a person running commands meets, by error name;
 * each says what the values mean (amounts in tokens, times as dates) and what to do.
 */
const SENTENCES: Record<string, Sentence> = {
  TimelockNotPassed: ([id, eta]) => ({ message: `the timelock of proposal ${id} ends at ${when(eta)}`, hint: 'wait until then, or run commons dao execute with --wait' }),
  WrongProposalState: ([id, have, want]) => ({ message: `proposal ${id} is ${name(DAO_STATES, have)}, but this needs it ${name(DAO_STATES, want)}`, hint: 'commons dao show lists its state' }),
  GovernorUnexpectedProposalState: ([id, have]) => ({ message: `proposal ${id} is ${name(GOVERNOR_STATES, have)}, so this cannot be done now`, hint: 'commons dao show lists its state' }),
  GovernorNonexistentProposal: ([id]) => ({ message: `there is no proposal ${id}`, hint: 'commons dao show lists the proposals' }),
  UnknownProposal: ([id]) => ({ message: `there is no proposal ${id}`, hint: 'commons dao show lists the proposals' }),
  AlreadyVoted: ([id, voter]) => ({ message: `${voter} has already voted on proposal ${id}`, hint: 'each member votes once' }),
  GovernorAlreadyCastVote: ([voter]) => ({ message: `${voter} has already voted on this proposal`, hint: 'each member votes once' }),
  NoShares: ([account]) => ({ message: `${account} holds no shares of this DAO`, hint: 'sign as a member (--account N or --key), or be admitted by a proposal' }),
  InsufficientShares: ([member, have, need]) => ({ message: `${member} holds ${have} shares but this needs ${need}`, hint: 'commons dao show lists the members' }),
  ForkThresholdNotReached: ([escrowed, need]) => ({ message: `only ${escrowed} shares are escrowed to fork; the fork needs ${need}`, hint: 'more members must escrow with commons dao fork' }),
  ForkJoinClosed: ([ended]) => ({ message: `the fork's join period ended at ${when(ended)}`, hint: 'the fork can no longer be joined' }),
  ERC20InsufficientBalance: ([account, balance, needed]) => ({ message: `${account} holds ${tokens(balance)} but this needs ${tokens(needed)}`, hint: 'on a devnet, commons chain fund ADDRESS gives an account tokens and ETH' }),
  ERC20InsufficientAllowance: ([spender, allowance, needed]) => ({ message: `${spender} may spend ${tokens(allowance)} of these tokens but needs ${tokens(needed)}` }),
  InsufficientFreeStake: ([node, free, need]) => ({ message: `${node} has ${tokens(free)} of free stake but this needs ${tokens(need)}`, hint: 'stake more with commons node start --stake' }),
  UnbondingNotReady: ([node, readyAt]) => ({ message: `the unbonding stake of ${node} is released at ${when(readyAt)}`, hint: 'wait until then' }),
  ZeroReward: () => ({ message: 'a job needs a reward above zero', hint: 'pass --reward' }),
  ZeroAmount: () => ({ message: 'the amount must be above zero' }),
  InvalidSpec: ([field]) => ({ message: `the job's "${field}" is out of the bounds the market accepts`, hint: 'see commons job spec --help' }),
  UnknownJob: ([id]) => ({ message: `there is no job ${id}`, hint: 'commons job list shows them' }),
  WrongStatus: ([id, have, want]) => ({ message: `job ${id} is ${name(JOB_STATUSES, have)}, but this needs it ${name(JOB_STATUSES, want)}`, hint: 'commons job show ID' }),
  WindowOpen: ([id, endsAt]) => ({ message: `the challenge window of job ${id} is open until ${when(endsAt)}`, hint: 'wait until then' }),
  WindowClosed: ([id, endedAt]) => ({ message: `the challenge window of job ${id} closed at ${when(endedAt)}` }),
  DeadlinePassed: ([id, deadline]) => ({ message: `the deadline of ${id} passed at ${when(deadline)}` }),
  DeadlineNotPassed: ([id, deadline]) => ({ message: `the deadline of ${id} is ${when(deadline)}`, hint: 'wait until then' }),
  // StorageMarket (docs/storage.md)
  UnknownDeal: ([id]) => ({ message: `there is no storage deal ${id}`, hint: 'commons storage deal list shows them' }),
  SlotOccupied: ([id, slot, provider]) => ({ message: `slot ${slot} of storage deal ${id} is held by ${provider}`, hint: 'leave out --slot to take the first open one' }),
  AlreadyInDeal: ([id, provider]) => ({ message: `${provider} already holds a slot of storage deal ${id}`, hint: 'each replica is kept by a different provider' }),
  DealOver: ([id, epochs]) => ({ message: `storage deal ${id} has no epoch left to serve (it lasts ${epochs} epochs)` }),
  NotAVersion: () => ({ message: 'the block given is not a dataset version (a dag-cbor commit)', hint: 'pass a version CID or a dataset name of this home' }),
  InvalidTerms: () => ({ message: 'the deal terms are out of bounds: replicas, epochs and price above zero, epoch blocks at least the proof window, slash at most 10000 bps', hint: 'see commons storage deal create --help' })
}

/**
 * The revert as a sentence (`details` keep the error's name and raw values for
 * scripts); an error without a sentence keeps the contract's own name and values.
 */
export function revertSentence (error: BaseError): BaseError {
  const errorName = error.details.error
  const sentence = typeof errorName === 'string' ? SENTENCES[errorName] : undefined
  if (sentence === undefined) return error
  const { message, hint } = sentence(((error.details.args ?? []) as unknown[]).map(String))
  return new ContractRevertError(`${message} (${errorName})`, { hint: hint ?? error.hint, details: error.details, cause: error.cause })
}
