import { z } from 'zod'
import { NoAgentsError } from '../errors.ts'
import { defineTool } from '../tool.ts'

// Agent cards arrive over gossip once A2A runs on the node; until then no agent is known,
// and both tools say so plainly rather than inventing peers.
const NO_AGENTS = 'no agents known yet: other nodes\' agent cards arrive over gossip once A2A runs on this node'

export const agentsListTool = defineTool({
  name: 'agents_list',
  description: 'The other agents this node has seen on the network: name, description, skills, peer.',
  input: {},
  effect: 'read',
  run: async () => ({ agents: [], note: NO_AGENTS })
})

export const agentAskTool = defineTool({
  name: 'agent_ask',
  description: 'Ask another node\'s agent a question (by its name or peer id from agents_list); answers its reply.',
  input: { agent: z.string().min(1).max(200).describe('the agent\'s name or peer id'), question: z.string().min(1).max(4000).describe('what to ask') },
  effect: 'read',
  run: async (_ctx, args) => {
    throw new NoAgentsError(`cannot ask "${args.agent}": ${NO_AGENTS}`, { hint: 'call agents_list to see the agents known', details: { agent: args.agent } })
  }
})
