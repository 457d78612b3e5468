import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import type { NetworkNode } from '@commons/node'
import type { Store } from '@commons/store'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { AgentCards } from './agentCards.ts'
import type { A2aNetwork } from './network.ts'

/**
 * Agents found through the DHT, with no registry and no shared gossip: every agent
 * provides the well-known key AGENTS_KEY (the CID of its bytes) in kad-dht, and a node
 * looks for that key's providers and asks each for its signed card on CARD_PROTOCOL. A
 * card is kept only if it is signed by its address and names the peer that sent it (the
 * libp2p connection authenticates the peer), as for cards that come by gossip.
 */

export const AGENTS_KEY = 'commons/agents/1'
export const CARD_PROTOCOL = '/commons/agent-card/1.0.0'
const MAX_CARD = 64 * 1024

/** The block every agent holds and provides: its CID is the key agents are found by. */
export const agentsKeyBlock = new TextEncoder().encode(AGENTS_KEY)

export async function agentsKeyCid (): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(agentsKeyBlock))
}

/** What discovery needs of a network and its blockstore. */
export type DhtNetwork = A2aNetwork & Pick<NetworkNode, 'provide' | 'findProviders'>

export interface DhtDiscoveryOptions {
  network: DhtNetwork
  /** Where the key block is put, so the node holds what it provides. */
  blocks: Store['blocks']
  cards: AgentCards
  /** Between provides and look-ups; default 30 s. */
  intervalMs?: number
  log?: (line: string) => void
}

export interface DhtDiscovery {
  /** Provides the key now (retried every interval while no DHT peer takes it). */
  provide(): Promise<boolean>
  /** Looks up the key's providers and fetches the cards of those not known; resolves with the peers whose cards were kept. */
  lookup(options?: { signal?: AbortSignal }): Promise<string[]>
  stop(): void
}

/** Serves this node's signed card to any peer that asks on CARD_PROTOCOL. */
async function serveCard (network: A2aNetwork, cards: AgentCards): Promise<void> {
  await network.handle(CARD_PROTOCOL, async (stream: Stream) => {
    const lp = lpStream(stream, { maxDataLength: MAX_CARD })
    await lp.write(new TextEncoder().encode(JSON.stringify(await cards.signed())))
    await stream.close()
  })
}

/** The card `peer` serves, as JSON; null when it cannot be had. */
async function fetchCard (network: A2aNetwork, peer: string): Promise<unknown> {
  const stream = await network.dialProtocol(peer, CARD_PROTOCOL)
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_CARD })
    return JSON.parse(new TextDecoder().decode((await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray()))
  } finally {
    await stream.close().catch(() => {})
  }
}

export async function startDhtDiscovery (options: DhtDiscoveryOptions): Promise<DhtDiscovery> {
  const { network, cards } = options
  const log = options.log ?? (() => {})
  const key = await agentsKeyCid()
  if (!await options.blocks.has(key)) await options.blocks.put(key, agentsKeyBlock)
  await serveCard(network, cards)
  let provided = false
  const stopped = new AbortController()
  // One look-up at a time: a slow DHT must not pile them up every interval.
  let looking: Promise<string[]> | null = null
  const discovery: DhtDiscovery = {
    provide: async () => {
      try {
        await network.provide(key)
        provided = true
      } catch (error) {
        // No DHT peer yet (a node alone at start): the next interval tries again.
        log(`agents key not provided yet: ${(error as Error).message}`)
      }
      return provided
    },
    lookup: async (lookupOptions = {}) => {
      looking ??= find(lookupOptions.signal).finally(() => { looking = null })
      return looking
    },
    stop: () => {
      clearInterval(timer)
      stopped.abort()
    }
  }
  async function find (outer?: AbortSignal): Promise<string[]> {
    const kept: string[] = []
    const signal = AbortSignal.any([AbortSignal.timeout(20_000), stopped.signal, ...outer === undefined ? [] : [outer]])
    try {
      for await (const peer of network.findProviders(key, { signal })) {
        if (peer === network.peerId || cards.find(peer)?.via === 'gossip') continue
        const card = await fetchCard(network, peer).catch((error: Error) => { log(`agent card of ${peer} not fetched: ${error.message}`); return null })
        if (card !== null && await cards.accept(card, peer, 'dht')) kept.push(peer)
      }
    } catch (error) {
      // A look-up that ends early (timeout, no DHT peer, stopped) keeps what it found.
      if (!signal.aborted) log(`DHT look-up for agents failed: ${(error as Error).message}`)
    }
    return kept
  }
  const timer = setInterval(() => {
    void (provided ? Promise.resolve(true) : discovery.provide()).then(async () => discovery.lookup())
  }, options.intervalMs ?? 30_000)
  timer.unref()
  void discovery.provide().then(async () => discovery.lookup())
  return discovery
}
