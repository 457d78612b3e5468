import { keccak256, encodePacked, parseEther, type Address, type TransactionReceipt } from 'viem'
import { devnetAccount, send, waitForReceipt, type Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import { BaseError } from '@commons/errors'
import { InvalidChainInputError } from './errors.ts'
import { priceFeedAbi } from './generated/contracts.ts'

/** The devnet feed: ETH / USD with 8 decimals, as Chainlink's ETH / USD feeds. */
export const FEED_DECIMALS = 8
export const FEED_DESCRIPTION = 'ETH / USD'
/** The answer deploy posts as round 1 on a devnet, so its feed is never empty: 3000.00000000. */
export const FEED_FIRST_ANSWER = 3000n * 10n ** 8n
/**
 * Readers refuse an answer older than this by default: an hour, the heartbeat of
 * Chainlink's ETH / USD feed on Ethereum.
 */
export const DEFAULT_MAX_AGE = 3600
/**
 * Development account of the devnet updater. Anvil funds accounts 0-9, which people pass
 * as --account; the updater's key is the next one, so it never races a user's nonces
 * (deploy gives it gas money on a devnet).
 */
export const DEVNET_FEED_UPDATER_INDEX = 10
/** Chain id of anvil (and every local devnet): where deploy seeds the feed and the updater may move the clock. */
export const DEVNET_CHAIN_ID = 31337

/** No round was ever posted on this feed. */
export class NoPriceError extends BaseError {
  override name = 'NoPriceError'
}

/** The latest answer is older than the reader's maximum age. */
export class StalePriceError extends BaseError {
  override name = 'StalePriceError'
}

/** A feed's latest round and how old it is. */
export interface PriceReading {
  feed: Address
  description: string
  decimals: number
  roundId: bigint
  /** The answer in the feed's units (`answer / 10^decimals` is the price). */
  answer: bigint
  /** The answer as a decimal string, e.g. "3012.50000000". */
  price: string
  startedAt: bigint
  updatedAt: bigint
  answeredInRound: bigint
  /** The time the age is measured at (seconds): the later of the chain's head and this machine's clock. */
  now: bigint
  /** Seconds since `updatedAt` (0 if the chain's clock is ahead of `now`). */
  age: bigint
  maxAge: bigint
  verdict: 'fresh' | 'stale'
}

export interface ReadPriceOptions {
  /** Seconds after which the answer is stale (default {@link DEFAULT_MAX_AGE}). */
  maxAge?: number | bigint
  /** The time to judge the age at, in seconds; by default the later of the chain's head and the local clock. */
  now?: bigint
}

/** `answer / 10^decimals` as an exact decimal string. */
export function formatAnswer (answer: bigint, decimals: number): string {
  const negative = answer < 0n
  const digits = (negative ? -answer : answer).toString().padStart(decimals + 1, '0')
  const whole = digits.slice(0, digits.length - decimals)
  const fraction = decimals > 0 ? `.${digits.slice(digits.length - decimals)}` : ''
  return `${negative ? '-' : ''}${whole}${fraction}`
}

/**
 * Reads the latest round of the deployment's price feed and judges its age against
 * `maxAge`. The clock is the later of the chain's head and the local clock: a quiet
 * devnet's head lags the wall clock, and a devnet moved forward with evm_increaseTime
 * runs ahead of it; a contract reading the feed later sees at least as old an answer.
 * Throws NoPriceError when the feed never had a round.
 */
export async function readPrice (clients: Clients, deployment: Deployment, options: ReadPriceOptions = {}): Promise<PriceReading> {
  const feed = deployment.contracts.priceFeed
  const limit = options.maxAge ?? DEFAULT_MAX_AGE
  if (typeof limit === 'number' ? !Number.isSafeInteger(limit) || limit < 0 : limit < 0n) {
    throw new InvalidChainInputError(`a maximum age must be a whole number of seconds >= 0, not ${limit}`, { details: { maxAge: String(limit) } })
  }
  const read = <F extends 'latestRound' | 'decimals' | 'description'>(functionName: F) =>
    clients.public.readContract({ address: feed, abi: priceFeedAbi, functionName })
  const [latest, decimals, description, head] = await Promise.all([read('latestRound'), read('decimals'), read('description'), clients.public.getBlock()])
  if (latest === 0n) {
    throw new NoPriceError(`the price feed ${feed} has no round yet`, {
      hint: 'post one with commons feed update PRICE, or start the devnet with commons chain up (its updater posts every few seconds)',
      details: { feed }
    })
  }
  // Round by id rather than latestRoundData, so the answer and the id come from one round
  // even if an update lands between the calls.
  const [roundId, answer, startedAt, updatedAt, answeredInRound] = await clients.public.readContract({
    address: feed, abi: priceFeedAbi, functionName: 'getRoundData', args: [latest]
  })
  const wall = BigInt(Math.floor(Date.now() / 1000))
  const now = options.now ?? (head.timestamp > wall ? head.timestamp : wall)
  const age = now > updatedAt ? now - updatedAt : 0n
  const maxAge = BigInt(limit)
  return {
    feed,
    description,
    decimals,
    roundId,
    answer,
    price: formatAnswer(answer, decimals),
    startedAt,
    updatedAt,
    answeredInRound,
    now,
    age,
    maxAge,
    verdict: age <= maxAge && answer > 0n ? 'fresh' : 'stale'
  }
}

/** Throws StalePriceError unless the reading is fresh: for readers that must not act on an old price. */
export function requireFresh (reading: PriceReading): PriceReading {
  if (reading.verdict === 'fresh') return reading
  throw new StalePriceError(`the ${reading.description} price is ${reading.age} s old, more than the ${reading.maxAge} s allowed`, {
    hint: 'post a new round (commons feed update PRICE), start the devnet updater (commons chain up), or raise --max-age',
    details: { feed: reading.feed, roundId: reading.roundId.toString(), updatedAt: reading.updatedAt.toString(), age: reading.age.toString(), maxAge: reading.maxAge.toString() }
  })
}

/**
 * Posts `answer` (in the feed's units) as the next round. The caller must hold the
 * updater role; the contract refuses answers <= 0 (ContractRevertError naming
 * `NotUpdater` or `AnswerNotPositive`).
 */
export async function updatePrice (clients: Clients, deployment: Deployment, answer: bigint): Promise<{ roundId: bigint, receipt: TransactionReceipt }> {
  const feed = deployment.contracts.priceFeed
  const receipt = await send(clients, { address: feed, abi: priceFeedAbi, functionName: 'update', args: [answer] })
  const roundId = await clients.public.readContract({ address: feed, abi: priceFeedAbi, functionName: 'latestRound', blockNumber: receipt.blockNumber })
  return { roundId, receipt }
}

/** Grants (or revokes) the updater role; the caller must be the feed's owner. */
export async function setFeedUpdater (clients: Clients, deployment: Deployment, updater: Address, allowed: boolean): Promise<TransactionReceipt> {
  return send(clients, { address: deployment.contracts.priceFeed, abi: priceFeedAbi, functionName: 'setUpdater', args: [updater, allowed] })
}

/** The address of the devnet updater's key. */
export function devnetFeedUpdater (): Address {
  return devnetAccount(DEVNET_FEED_UPDATER_INDEX).address
}

/** Who holds the updater role from deployment: the deployer, and on a devnet also the devnet updater's key. */
export function defaultFeedUpdaters (deployer: Address, chainId: number): Address[] {
  return chainId === DEVNET_CHAIN_ID ? [deployer, devnetFeedUpdater()] : [deployer]
}

/**
 * Readies a feed just deployed on a devnet: round 1 is posted (if the deployer may post)
 * so readers never meet an empty feed, and the updater's key gets gas money. Elsewhere
 * nothing: a made-up first price on a real network would mislead; its readers get
 * NoPriceError until an updater posts.
 */
export async function startFeed (clients: Clients, feed: Address, updaters: readonly Address[]): Promise<void> {
  if (clients.public.chain.id !== DEVNET_CHAIN_ID) return
  const holds = (account: Address): boolean => updaters.some(u => u.toLowerCase() === account.toLowerCase())
  if (holds(clients.account.address)) {
    await send(clients, { address: feed, abi: priceFeedAbi, functionName: 'update', args: [FEED_FIRST_ANSWER] })
  }
  const updater = devnetFeedUpdater()
  if (holds(updater) && await clients.public.getBalance({ address: updater }) < parseEther('1')) {
    const hash = await clients.wallet.sendTransaction({ to: updater, value: parseEther('10') })
    await waitForReceipt(clients, hash)
  }
}

/**
 * The next answer of the devnet's seeded random walk: a step of at most ±0.5 % from
 * `previous`, drawn from keccak(seed, round), so a devnet's price history is the same
 * on every machine; never below 1.
 */
export function nextWalkAnswer (seed: bigint, previous: bigint, nextRound: bigint): bigint {
  const draw = BigInt(keccak256(encodePacked(['uint256', 'uint256'], [seed, nextRound])))
  const basisPoints = (draw % 101n) - 50n // -50..50, in 1/10,000
  const next = previous + previous * basisPoints / 10_000n
  return next > 0n ? next : 1n
}
