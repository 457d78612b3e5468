import type { Abi, Address, Hex } from 'viem'
import { eventsInRanges, type Clients } from '@commons/chain'

/**
 * Follows contract events without asking a provider for more than it gives: each look
 * is one eth_blockNumber; logs are asked only when there are new blocks, from where the
 * last look ended (never before the deployment block), `range` blocks per request, and
 * only down to `confirmations` blocks below the head, so a reorg shallower than that
 * never shows the node an event that then vanishes.
 */

export interface WatchedEvent {
  eventName: string
  args: unknown
  address: Address
  blockNumber: bigint
  blockHash: Hex
  logIndex: number
}

export interface WatcherOptions {
  clients: Clients
  addresses: Address[]
  abi: Abi
  /** First block not handled yet. */
  fromBlock: bigint
  range: bigint
  confirmations: bigint
  /** Called with each window's events in chain order; `toBlock` is handled once it returns. */
  onEvents: (events: WatchedEvent[], toBlock: bigint) => Promise<void>
}

export interface Watcher {
  /** One look: returns true when there were new blocks. */
  poll(): Promise<boolean>
  /** The first block not looked at yet. */
  next(): bigint
}

export function createWatcher (options: WatcherOptions): Watcher {
  let fromBlock = options.fromBlock
  return {
    next: () => fromBlock,
    async poll () {
      const head = await options.clients.public.getBlockNumber()
      const toBlock = head - options.confirmations
      if (toBlock < fromBlock) return false
      for await (const window of eventsInRanges(options.clients, { address: options.addresses, abi: options.abi, fromBlock, toBlock, range: options.range })) {
        const events = (window.events as unknown as WatchedEvent[]).sort((a, b) => Number(a.blockNumber - b.blockNumber) || a.logIndex - b.logIndex)
        await options.onEvents(events, window.toBlock)
        fromBlock = window.toBlock + 1n
      }
      return true
    }
  }
}
