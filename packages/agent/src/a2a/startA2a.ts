import type { LocalAccount } from 'viem'
import type { Store } from '@commons/store'
import { startAgentCards, type AgentCards, type SeenAgent } from './agentCards.ts'
import { knowledgeAnswerer } from './answerers.ts'
import { commonsCard, type A2aCard } from './card.ts'
import { startA2aHttp, type A2aHttp } from './httpBinding.ts'
import type { A2aNetwork } from './network.ts'
import { startDhtDiscovery, type DhtDiscovery, type DhtNetwork } from './dhtDiscovery.ts'
import { liveReach, type AgentsReach } from './reach.ts'
import { shareNotes, type NoteSharing } from './shareNotes.ts'
import { serveTasks, type TaskAnswerer } from './taskProtocol.ts'

/** The skill every Commons agent has: its shared notes. */
export const KNOWLEDGE_SKILL: A2aCard['skills'][number] = {
  id: 'knowledge', name: 'Shared notes', description: 'Answers from the signed notes this node holds, citing each by CID.', tags: ['knowledge', 'notes'], examples: ['What do the notes say about the bridge?']
}

export interface A2aOptions {
  /** With a DHT (provide, findProviders), agents are also found through it (dhtDiscovery.ts). */
  network: A2aNetwork | DhtNetwork
  store: Store
  /** Signs the card. */
  account: LocalAccount
  name: string
  /** Who answers tasks; default the node's notes (knowledgeAnswerer). */
  answer?: TaskAnswerer
  skills?: A2aCard['skills']
  /** Port of the HTTP binding on 127.0.0.1; default any free port. */
  httpPort?: number
  /** Between announcements of the card and of the notes held; default 30 s. */
  intervalMs?: number
  /** Announce this node's notes and take in others'; default true. */
  shareKnowledge?: boolean
  /** Provide the agents key in the DHT and find other agents by it; default true where the network has a DHT. */
  dhtDiscovery?: boolean
  /** The agents seen, each time the list changes and every interval (cards expire). */
  onAgents?: (agents: SeenAgent[]) => void
  log?: (line: string) => void
}

export interface A2aNode {
  card: A2aCard
  http: A2aHttp
  cards: AgentCards
  sharing: NoteSharing | null
  /** Agents found through the DHT; null without one. */
  discovery: DhtDiscovery | null
  /** The agents seen, for agents_list / agent_ask in this process. */
  reach: AgentsReach
  stop(): Promise<void>
}

/**
 * A node's side of A2A, all of it: tasks answered over libp2p and the HTTP binding, its
 * signed card on gossip naming both, the cards of others kept, and its notes shared.
 */
export async function startA2a (options: A2aOptions): Promise<A2aNode> {
  const { network, store } = options
  const intervalMs = options.intervalMs ?? 30_000
  const answer = options.answer ?? knowledgeAnswerer(async () => store)
  const skills = options.skills ?? [KNOWLEDGE_SKILL]
  await serveTasks(network, answer, options.log)
  const http = await startA2aHttp({ answer, card: commonsCard({ name: options.name, peerId: network.peerId, skills }), port: options.httpPort })
  const card = commonsCard({ name: options.name, peerId: network.peerId, httpUrl: http.url, skills })
  const cards = startAgentCards({ network, account: options.account, card, intervalMs, onChange: options.onAgents, log: options.log })
  const discovery = options.dhtDiscovery === false || !('findProviders' in network)
    ? null
    : await startDhtDiscovery({ network, blocks: store.blocks, cards, intervalMs, log: options.log })
  const sharing = options.shareKnowledge === false ? null : shareNotes({ network, store, intervalMs, log: options.log })
  const listed = options.onAgents === undefined ? null : setInterval(() => { options.onAgents?.(cards.list()) }, intervalMs)
  listed?.unref()
  return {
    card,
    http,
    cards,
    sharing,
    discovery,
    reach: liveReach(network, cards),
    stop: async () => {
      if (listed !== null) clearInterval(listed)
      cards.stop()
      discovery?.stop()
      sharing?.stop()
      await sharing?.idle()
      await http.close()
    }
  }
}
