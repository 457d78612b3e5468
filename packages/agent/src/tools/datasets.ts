import { z } from 'zod'
import MiniSearch from 'minisearch'
import { listDatasets, logDataset, showVersion } from '@commons/store'
import { ToolArgumentsError } from '../errors.ts'
import { defineTool } from '../tool.ts'
import { versionRecords } from './versionRecords.ts'

const ref = z.string().min(1).max(200).describe('a dataset name (for its head) or a version CID')

export const datasetListTool = defineTool({
  name: 'dataset_list',
  description: 'The datasets this node holds: name, head version CID, and what it was forked from.',
  input: {},
  effect: 'read',
  run: async (ctx) => {
    const datasets = await listDatasets(await ctx.store())
    return datasets.map(d => ({ name: d.name, head: d.head?.toString() ?? null, forkOf: d.forkOf === undefined ? null : { name: d.forkOf.name, at: d.forkOf.at.toString() } }))
  }
})

export const datasetLogTool = defineTool({
  name: 'dataset_log',
  description: 'The versions of a dataset, newest first: CID, author, time, message.',
  input: { name: z.string().min(1).max(64).describe('the dataset name'), limit: z.number().int().min(1).max(1000).optional().describe('at most this many versions (default 20)') },
  effect: 'read',
  run: async (ctx, args) => {
    const log = await logDataset(await ctx.store(), args.name)
    return log.slice(0, args.limit ?? 20).map(e => ({
      cid: e.cid.toString(), author: e.version.author, time: new Date(e.version.time * 1000).toISOString(), message: e.version.message, parents: e.version.parents.map(String)
    }))
  }
})

export const datasetReadTool = defineTool({
  name: 'dataset_read',
  description: 'A version\'s files (without path), or rows/lines of one file of it (with path).',
  input: {
    ref,
    path: z.string().min(1).max(1000).optional().describe('a file of the version; leave out to list the files'),
    offset: z.number().int().min(0).optional().describe('first row/line to return (default 0)'),
    limit: z.number().int().min(1).max(500).optional().describe('rows/lines to return (default 20)')
  },
  effect: 'read',
  run: async (ctx, args) => {
    const store = await ctx.store()
    if (args.path === undefined) {
      const shown = await showVersion(store, args.ref)
      return { version: shown.cid.toString(), message: shown.version.message, bytes: shown.bytes, files: shown.files.map(f => ({ path: f.path, cid: f.cid.toString(), size: f.size })) }
    }
    const { version, files } = await versionRecords(store, args.ref, args.path)
    const file = files[0]
    if (file === undefined) throw new ToolArgumentsError(`version ${version} has no file "${args.path}"`, { hint: 'call dataset_read without path to list its files', details: { version, path: args.path } })
    const offset = args.offset ?? 0
    return { version, path: file.path, cid: file.cid, kind: file.kind, total: file.records.length, offset, records: file.records.slice(offset, offset + (args.limit ?? 20)) }
  }
})

export const datasetSearchTool = defineTool({
  name: 'dataset_search',
  description: 'Full-text search of the rows/lines of a dataset version; hits give file, row number and text.',
  input: { ref, query: z.string().min(1).max(500).describe('words to look for'), limit: z.number().int().min(1).max(100).optional().describe('at most this many hits (default 10)') },
  effect: 'read',
  run: async (ctx, args) => {
    const { version, files } = await versionRecords(await ctx.store(), args.ref)
    const index = new MiniSearch<{ id: string, path: string, row: number, text: string }>({ fields: ['text'], storeFields: ['path', 'row', 'text'] })
    index.addAll(files.flatMap(f => f.records.map((text, row) => ({ id: `${f.path}#${row}`, path: f.path, row, text }))))
    const hits = index.search(args.query, { prefix: true, fuzzy: 0.2 }).slice(0, args.limit ?? 10)
    return { version, hits: hits.map(h => ({ path: h.path as string, row: h.row as number, text: h.text as string, score: Number(h.score.toFixed(3)) })) }
  }
})
