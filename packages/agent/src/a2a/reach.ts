import { NoAgentsError } from '../errors.ts'
import type { AgentCards, SeenAgent } from './agentCards.ts'
import type { A2aNetwork } from './network.ts'
import { askAgent, type TaskResult } from './taskProtocol.ts'

/** What the agents_list and agent_ask tools reach: the agents seen, and a way to ask one. */
export interface AgentsReach {
  list(): Promise<SeenAgent[]>
  ask(agent: string, question: string, options?: { onText?: (text: string) => void, signal?: AbortSignal }): Promise<TaskResult & { agent: string, peerId: string }>
}

/** The agent named `agent` (peer id or name) among `agents`, or a NoAgentsError naming those known. */
export function pickAgent (agents: SeenAgent[], agent: string): SeenAgent {
  const found = agents.find(a => a.peerId === agent) ?? agents.find(a => a.name.toLowerCase() === agent.toLowerCase())
  if (found !== undefined) return found
  throw new NoAgentsError(agents.length === 0
    ? `cannot ask "${agent}": no agents known yet (their cards arrive over gossip while commons agent serve runs)`
    : `no agent "${agent}" among the ${agents.length} known`, {
    hint: agents.length === 0 ? 'run commons agent serve on this home and on the other nodes, then commons agent list' : `the agents known are ${agents.map(a => `${a.name} (${a.peerId})`).join(', ')}`,
    details: { agent }
  })
}

/**
 * A reach over a network: `agents` lists the cards seen (a live card service, or the
 * file a serving process keeps); a task dials the agent's own addresses first, so a
 * process that has never met the peer still reaches it.
 */
export function agentsReach (network: () => Promise<A2aNetwork>, agents: () => Promise<SeenAgent[]>): AgentsReach {
  return {
    list: agents,
    ask: async (agent, question, options) => {
      const seen = pickAgent(await agents(), agent)
      const net = await network()
      const addresses = seen.multiaddrs.filter(a => a.endsWith(`/p2p/${seen.peerId}`))
      let lastError: unknown
      for (const peer of [...addresses, seen.peerId]) {
        try {
          return { agent: seen.name, peerId: seen.peerId, ...await askAgent(net, peer, question, options) }
        } catch (error) {
          // Only an unreachable address is worth another try; a failed task is the answer.
          if ((error as Error).name !== 'AgentUnreachableError') throw error
          lastError = error
        }
      }
      throw lastError
    }
  }
}

/** A reach whose list is a running card service's. */
export function liveReach (network: A2aNetwork, cards: AgentCards): AgentsReach {
  return agentsReach(async () => network, async () => cards.list())
}
