import type { PublicClient } from 'viem'

/**
 * How a connection behaves on the chain it reaches: how often it polls, how many blocks
 * it waits past a receipt, how it retries a provider that rate-limits. A local devnet
 * (anvil, Hardhat's network) mines a block per transaction at once, so it is polled
 * fast and its receipts are acted on at once; a public chain is polled no faster than
 * it makes blocks, and its receipts wait for confirmations, since a block can be
 * reorganised away.
 */

/** Chain ids of local development networks: anvil's and Hardhat's 31337, Ganache's 1337. */
export const DEVNET_CHAIN_IDS: readonly number[] = [31337, 1337]

export function isDevnetChain (chainId: number): boolean {
  return DEVNET_CHAIN_IDS.includes(chainId)
}

/** Milliseconds between polls on a devnet: it mines on demand, so there is no block time to wait for. */
export const DEVNET_POLLING_MS = 50
/** The fastest a public chain is polled, however short its blocks (providers count requests). */
export const MIN_PUBLIC_POLLING_MS = 1_000
/** Blocks past the one that mined a transaction before a public chain's receipt is acted on. */
export const PUBLIC_CONFIRMATIONS = 2

/**
 * Retries of a request a provider refused for its rate (HTTP 429, JSON-RPC -32005, or
 * its Retry-After): viem's backoff doubles from `retryDelay`, so six retries wait up to
 * 0.25 + 0.5 + 1 + 2 + 4 + 8 = 15.75 s in all before the error surfaces.
 */
export const RATE_LIMIT_RETRIES = { retryCount: 6, retryDelay: 250 }

export interface ConnectOptions {
  /** Blocks past the mining block to wait before acting on a receipt (default: 0 on a devnet, PUBLIC_CONFIRMATIONS elsewhere). */
  confirmations?: number
  /** Milliseconds between polls (default: 50 on a devnet, else the chain's block time, at least MIN_PUBLIC_POLLING_MS). */
  pollingMs?: number
  /** Milliseconds a sent transaction may take to be mined and confirmed (default: receiptTimeoutMs in clients.ts). */
  receiptTimeoutMs?: number
}

/**
 * The chain's mean block time in milliseconds over its last (up to) 100 blocks, or
 * undefined when it has too few blocks to tell.
 */
export async function blockTimeMs (client: Pick<PublicClient, 'getBlock'>): Promise<number | undefined> {
  const head = await client.getBlock({ blockTag: 'latest' })
  const span = head.number < 100n ? head.number : 100n
  if (span === 0n) return undefined
  const old = await client.getBlock({ blockNumber: head.number - span })
  return Number(head.timestamp - old.timestamp) * 1000 / Number(span)
}

/** The polling interval and confirmations a connection to `chainId` uses. */
export async function settingsFor (client: Pick<PublicClient, 'getBlock'>, chainId: number, options: ConnectOptions = {}): Promise<{ pollingMs: number, confirmations: number }> {
  const devnet = isDevnetChain(chainId)
  const confirmations = options.confirmations ?? (devnet ? 0 : PUBLIC_CONFIRMATIONS)
  if (options.pollingMs !== undefined) return { pollingMs: options.pollingMs, confirmations }
  if (devnet) return { pollingMs: DEVNET_POLLING_MS, confirmations }
  const measured = await blockTimeMs(client).catch(() => undefined)
  return { pollingMs: Math.max(MIN_PUBLIC_POLLING_MS, Math.round(measured ?? 0)), confirmations }
}
