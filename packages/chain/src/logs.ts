import type { Abi, Address, ContractEventName, GetContractEventsReturnType, Log } from 'viem'
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

/** A query of one event kind of one contract, typed by its ABI. */
export interface EventsQuery<A extends Abi, N extends ContractEventName<A>> {
  address: Address
  abi: A
  eventName: N
  args?: Record<string, unknown>
  fromBlock: bigint
  /** The head (read once, at the start) when left out. */
  toBlock?: bigint
  range?: bigint
}

/**
 * Every event of one kind in [fromBlock, toBlock], in order, read in windows of at most
 * `range` blocks: for reads that need a contract's whole history (a DAO's proposals, a
 * job's disputes) on a provider that caps ranges.
 */
export async function allEvents<const A extends Abi, N extends ContractEventName<A>> (clients: Clients, query: EventsQuery<A, N>): Promise<GetContractEventsReturnType<A, N>> {
  const toBlock = query.toBlock ?? await clients.public.getBlockNumber()
  const events: DecodedLog[] = []
  for await (const window of eventsInRanges(clients, { ...query, eventName: query.eventName as string, toBlock })) events.push(...window.events)
  return events as unknown as GetContractEventsReturnType<A, N>
}

/**
 * The newest events of one kind (see latestEvents), typed by the ABI: for a move of a
 * dispute that needs the event of its last step.
 */
export async function latestContractEvents<const A extends Abi, N extends ContractEventName<A>> (clients: Clients, query: Omit<EventsQuery<A, N>, 'toBlock'>): Promise<GetContractEventsReturnType<A, N>> {
  return await latestEvents(clients, { ...query, eventName: query.eventName as string }) as unknown as GetContractEventsReturnType<A, N>
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

/**
 * The block a contract was deployed in, for a manifest that lacks `block` (written by an
 * older deploy): the lowest block where it has code, by bisection (about 25 requests on
 * a chain of millions of blocks). Needs a node that answers eth_getCode at old blocks;
 * where it cannot, 0 (the log queries then start at genesis, in bounded windows still).
 */
export async function findDeploymentBlock (clients: Clients, address: Address): Promise<bigint> {
  try {
    let low = 0n
    let high = await clients.public.getBlockNumber()
    const has = async (block: bigint): Promise<boolean> => {
      const code = await clients.public.getCode({ address, blockNumber: block })
      return code !== undefined && code !== '0x'
    }
    if (!(await has(high))) return 0n
    while (low < high) {
      const mid = (low + high) / 2n
      if (await has(mid)) high = mid
      else low = mid + 1n
    }
    return low
  } catch {
    return 0n
  }
}
