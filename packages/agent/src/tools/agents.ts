import { z } from 'zod'
import type { ToolContext } from '../context.ts'
import { NoAgentsError } from '../errors.ts'
import type { AgentsReach } from '../a2a/reach.ts'
import { defineTool } from '../tool.ts'

// Agent cards arrive over gossip while the node's A2A runs (commons agent serve); a
// context without it knows no agent, and both tools say so rather than invent peers.
const NO_AGENTS = 'no agents known yet: other nodes\' agent cards arrive over gossip while commons agent serve runs'

async function reachOf (ctx: ToolContext, agent?: string): Promise<AgentsReach | null> {
  if (ctx.agents !== undefined) return ctx.agents()
  if (agent === undefined) return null
  throw new NoAgentsError(`cannot ask "${agent}": ${NO_AGENTS}`, { hint: 'call agents_list to see the agents known', details: { agent } })
}

export const agentsListTool = defineTool({
  name: 'agents_list',
  description: 'The other agents this node has seen on the network: name, description, skills, peer.',
  input: {},
  effect: 'read',
  run: async (ctx) => {
    const reach = await reachOf(ctx)
    const agents = reach === null ? [] : await reach.list()
    return {
      agents: agents.map(a => ({ name: a.name, peerId: a.peerId, address: a.address, description: a.description, skills: a.skills, endpoints: a.endpoints, seen: a.seen })),
      ...agents.length === 0 ? { note: NO_AGENTS } : {}
    }
  }
})

export const agentAskTool = defineTool({
  name: 'agent_ask',
  description: 'Ask another node\'s agent a question (by its name or peer id from agents_list); answers its reply and the note CIDs it cites.',
  input: { agent: z.string().min(1).max(200).describe('the agent\'s name or peer id'), question: z.string().min(1).max(4000).describe('what to ask') },
  effect: 'read',
  run: async (ctx, args) => {
    const reach = await reachOf(ctx, args.agent)
    const result = await reach!.ask(args.agent, args.question)
    return { agent: result.agent, peerId: result.peerId, taskId: result.taskId, state: result.state, answer: result.text, cites: result.cites }
  }
})
