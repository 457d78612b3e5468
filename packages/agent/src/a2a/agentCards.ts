import type { LocalAccount } from 'viem'
import { AGENT_CARDS_TOPIC, checkCard, signCard, type A2aCard, type SignedAgentCard } from './card.ts'
import type { A2aNetwork } from './network.ts'

/** An agent this node has seen: its last card, and when it arrived. */
export interface SeenAgent {
  peerId: string
  address: string
  name: string
  description: string
  skills: string[]
  multiaddrs: string[]
  endpoints: string[]
  seen: string
  /** How the card came: on the gossip topic, or fetched from a provider found in the DHT. */
  via: 'gossip' | 'dht'
  card: SignedAgentCard
}

export interface AgentCards {
  /** Agents seen, newest card first; cards older than the time to live are left out. */
  list(): SeenAgent[]
  /** The agent with this peer id, or the first whose name matches (case-insensitive). */
  find(agent: string): SeenAgent | undefined
  /** Cards refused: malformed, unsigned, or signed by someone other than they claim. */
  dropped: number
  /** Publishes this node's card now (also done every interval). */
  announce(): Promise<void>
  /** This node's card, signed now (what a peer that asks for it directly is given). */
  signed(): Promise<SignedAgentCard>
  /** Keeps `value` if checkCard passes it as the card of peer `from`; else counts it dropped. Resolves whether it was kept. */
  accept(value: unknown, from: string, via: SeenAgent['via']): Promise<boolean>
  stop(): void
}

export interface AgentCardsOptions {
  network: A2aNetwork
  account: LocalAccount
  card: A2aCard
  /** How often the card is published again, so peers that join later see it; default 30 s. */
  intervalMs?: number
  /** How long a card is kept without being seen again; default 5 intervals. */
  ttlMs?: number
  /** Called when the list changes (the CLI writes it to a file). */
  onChange?: (agents: SeenAgent[]) => void
  log?: (line: string) => void
}

/**
 * The agent card service of a node: publishes its own signed card on the cards topic
 * and keeps the cards of others that pass checkCard. No registry: a peer is known by
 * what it gossips, and forgotten when it stops.
 */
export function startAgentCards (options: AgentCardsOptions): AgentCards {
  const { network, account } = options
  const intervalMs = options.intervalMs ?? 30_000
  const ttlMs = options.ttlMs ?? intervalMs * 5
  const seen = new Map<string, { card: SignedAgentCard, at: number, via: SeenAgent['via'] }>()
  const log = options.log ?? (() => {})
  const cards: AgentCards = {
    dropped: 0,
    list: () => {
      const now = Date.now()
      return [...seen.values()].filter(s => now - s.at <= ttlMs).sort((a, b) => b.at - a.at).map(({ card, at, via }) => ({
        peerId: card.peerId,
        address: card.address,
        name: card.card.name,
        description: card.card.description,
        skills: card.card.skills.map(s => s.id),
        multiaddrs: card.multiaddrs,
        endpoints: card.card.supportedInterfaces.map(i => i.url),
        seen: new Date(at).toISOString(),
        via,
        card
      }))
    },
    find: (agent) => {
      const agents = cards.list()
      return agents.find(a => a.peerId === agent) ?? agents.find(a => a.name.toLowerCase() === agent.toLowerCase())
    },
    signed: async () => signCard(account, { card: options.card, peerId: network.peerId, multiaddrs: network.multiaddrs() }),
    announce: async () => {
      // No peer subscribed yet is normal at start: the next interval tries again.
      await network.publish(AGENT_CARDS_TOPIC, await cards.signed()).catch(() => {})
    },
    accept: async (value, from, via) => {
      const checked = await checkCard(value, from)
      if ('refused' in checked) {
        cards.dropped++
        log(`agent card dropped: ${checked.refused}`)
        return false
      }
      const previous = seen.get(checked.card.peerId)
      if (previous !== undefined && previous.card.time > checked.card.time) return true
      seen.set(checked.card.peerId, { card: checked.card, at: Date.now(), via })
      options.onChange?.(cards.list())
      return true
    },
    stop: () => {
      clearInterval(timer)
      clearTimeout(soon)
      unsubscribe()
      stopJoins()
    }
  }
  const unsubscribe = network.subscribe(AGENT_CARDS_TOPIC, (message, from) => { void cards.accept(message, from, 'gossip') })
  const timer = setInterval(() => { void cards.announce() }, intervalMs)
  timer.unref()
  // A peer that joins the topic missed every card published before: it gets this one now
  // (once for peers joining together), not at the next interval (30 s by default).
  let soon: ReturnType<typeof setTimeout> | undefined
  const stopJoins = network.onTopicPeer(AGENT_CARDS_TOPIC, () => {
    soon ??= setTimeout(() => { soon = undefined; void cards.announce() }, 100)
  })
  void cards.announce()
  return cards
}
