import { z } from 'zod'
import { putNote } from '../knowledge/putNote.ts'
import { searchNotes } from '../knowledge/searchNotes.ts'
import { defineTool } from '../tool.ts'

export const knowledgePutTool = defineTool({
  name: 'knowledge_put',
  description: 'Share a note: signed by this node\'s account and committed to the knowledge dataset; answers its CID.',
  input: {
    title: z.string().min(1).max(200).describe('a short title'),
    text: z.string().min(1).max(20_000).describe('the note'),
    tags: z.array(z.string().min(1).max(40)).max(20).optional().describe('words to find it by')
  },
  effect: 'sign',
  run: async (ctx, args) => {
    const put = await putNote(await ctx.store(), await ctx.signer(), { title: args.title, text: args.text, tags: args.tags ?? [] })
    return { cid: put.cid, version: put.version, path: put.path, author: put.note.author, signature: put.note.signature }
  }
})

export const knowledgeSearchTool = defineTool({
  name: 'knowledge_search',
  description: 'Search the shared notes this node holds; each hit gives the note\'s CID (cite it), author and text. Notes with a bad signature are left out.',
  input: { query: z.string().min(1).max(500).describe('words to look for'), limit: z.number().int().min(1).max(50).optional().describe('at most this many notes (default 5)') },
  effect: 'read',
  run: async (ctx, args) => searchNotes(await ctx.store(), args.query, args.limit ?? 5)
})
