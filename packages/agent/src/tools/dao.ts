import { z } from 'zod'
import { isAddress, type Address } from 'viem'
import { listDaos, readDao } from '@commons/chain'
import { ToolArgumentsError } from '../errors.ts'
import { defineTool } from '../tool.ts'

export const daoProposalsTool = defineTool({
  name: 'dao_proposals',
  description: 'The proposals of a dataset\'s DAO (by DAO name or address; every DAO when left out): description, state and votes, and the DAO\'s head dataset version.',
  input: { dao: z.string().min(1).max(100).optional().describe('a DAO name or 0x address') },
  effect: 'read',
  run: async (ctx, args) => {
    const { clients, deployment } = await ctx.chain()
    const all = await listDaos(clients, deployment)
    const chosen = args.dao === undefined ? all : all.filter(d => d.name === args.dao || (isAddress(args.dao as string) && d.dao.toLowerCase() === args.dao?.toLowerCase()))
    if (chosen.length === 0) {
      throw new ToolArgumentsError(`no DAO named "${args.dao}"`, { hint: `the DAOs are: ${all.map(d => d.name).join(', ') || 'none yet'}`, details: { dao: args.dao } })
    }
    return Promise.all(chosen.map(async d => {
      const info = await readDao(clients, d.dao as Address)
      return {
        dao: info.address,
        name: info.name,
        head: info.head,
        proposals: info.proposals.map(p => ({ id: p.id.toString(), description: p.description, state: p.state, for: p.forVotes.toString(), against: p.againstVotes.toString(), abstain: p.abstainVotes.toString() }))
      }
    }))
  }
})
