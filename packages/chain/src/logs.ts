import type { Abi, Address, Log } from 'viem'
import type { Clients } from './clients.ts'

/**
 * Log queries that every provider answers: many cap `eth_getLogs` at a block range
 * (1,000 blocks is common), so a query never spans more than `range` blocks, and
 * none starts before the deployment block (nothing of ours is older).
 */

/** Blocks one `eth_getLogs` may span unless a setting says otherwise. */
export const DEFAULT_LOG_RANGE = 1_000n

export interface RangeQuery {
  address: Address | Address[]
  abi: Abi
  eventName?: string
  args?: Record<string, unknown>
  fromBlock: bigint
  toBlock: bigint
  /** Most blocks per request (default 1,000). */
  range?: bigint
}

type DecodedLog = Log & { eventName: string, args: unknown }

/** The events of [fromBlock, toBlock], asked for `range` blocks at a time; yields each window's, in order. */
export async function * eventsInRanges (clients: Clients, query: RangeQuery): AsyncGenerator<{ toBlock: bigint, events: DecodedLog[] }> {
  const range = query.range ?? DEFAULT_LOG_RANGE
  for (let from = query.fromBlock; from <= query.toBlock; from += range) {
    const to = from + range - 1n < query.toBlock ? from + range - 1n : query.toBlock
    const events = await clients.public.getContractEvents({ address: query.address, abi: query.abi, eventName: query.eventName, args: query.args, fromBlock: from, toBlock: to } as never) as unknown as DecodedLog[]
    yield { toBlock: to, events }
  }
}

/**
 * The events of one kind, searched from the newest block back to `fromBlock` in
 * windows of `range`, stopping at the first window with any: what a move of a dispute
 * needs (a recent event) costs one request, not a scan of the chain's history.
 */
export async function latestEvents (clients: Clients, query: Omit<RangeQuery, 'toBlock'>): Promise<DecodedLog[]> {
  const range = query.range ?? DEFAULT_LOG_RANGE
  let to = await clients.public.getBlockNumber()
  while (to >= query.fromBlock) {
    const from = to - range + 1n > query.fromBlock ? to - range + 1n : query.fromBlock
    const events = await clients.public.getContractEvents({ address: query.address, abi: query.abi, eventName: query.eventName, args: query.args, fromBlock: from, toBlock: to } as never) as unknown as DecodedLog[]
    if (events.length > 0) return events
    to = from - 1n
  }
  return []
}
