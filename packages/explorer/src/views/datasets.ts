import { CID } from 'multiformats/cid'
import { diffVersions, logFrom, readVersionFile, showVersion } from '@commons/store'
import { cidString, type ExplorerContext } from '../context.ts'
import { ContentMissingError, NotIndexedError } from '../errors.ts'

/**
 * Datasets as the chain names them: each DAO governs one by name and head; the
 * versions are the head's history, read by CID from the home's stores and checked.
 */

/** Each DAO's current head (its last HeadChanged, else the head it was made with). */
export function daoHeads (ctx: ExplorerContext): Array<{ dao: string, name: string, head: string | null, parent: string | null, forkPoint: string | null }> {
  return ctx.index.events({ contract: 'daoFactory', names: ['DaoCreated'] }).map(created => {
    const dao = String(created.args.dao).toLowerCase()
    const changes = ctx.index.events({ contract: 'dao', names: ['HeadChanged'], address: dao })
    const head = changes.length > 0 ? cidString(changes[changes.length - 1].args.newHead) : cidString(created.args.head)
    const parent = String(created.args.parent).toLowerCase()
    return { dao, name: String(created.args.name), head, parent: /^0x0+$/.test(parent) ? null : parent, forkPoint: cidString(created.args.forkPoint) }
  })
}

export function listDatasetViews (ctx: ExplorerContext): Array<{ name: string, daos: string[], heads: string[] }> {
  const byName = new Map<string, { name: string, daos: string[], heads: string[] }>()
  for (const h of daoHeads(ctx)) {
    const entry = byName.get(h.name) ?? { name: h.name, daos: [], heads: [] }
    entry.daos.push(h.dao)
    if (h.head !== null && !entry.heads.includes(h.head)) entry.heads.push(h.head)
    byName.set(h.name, entry)
  }
  return [...byName.values()]
}

/** A version as the pages list it, from the store's showVersion; its files for whoever needs them. */
async function shownVersion (ctx: ExplorerContext, cid: CID) {
  const { version, files, bytes } = await showVersion(ctx.content.store, cid.toString())
  const summary = {
    cid: cid.toString(), message: version.message, author: version.author, time: version.time,
    parents: version.parents.map(String), bytes, files: files.length
  }
  return { summary, files }
}

export async function versionSummary (ctx: ExplorerContext, cid: CID): Promise<{ cid: string, message: string, author: string, time: number, parents: string[], bytes: number, files: number }> {
  return (await shownVersion(ctx, cid)).summary
}

export async function datasetView (ctx: ExplorerContext, name: string) {
  const dataset = listDatasetViews(ctx).find(d => d.name === name)
  if (dataset === undefined) throw new NotIndexedError(`no DAO governs a dataset named "${name}"`, { hint: 'the datasets page lists those on-chain', details: { name } })
  const seen = new Map<string, Awaited<ReturnType<typeof versionSummary>>>()
  const missing: string[] = []
  for (const head of dataset.heads) {
    try {
      await present(ctx, CID.parse(head))
      for (const entry of await logFrom(ctx.content.store, CID.parse(head))) {
        if (!seen.has(entry.cid.toString())) seen.set(entry.cid.toString(), await versionSummary(ctx, entry.cid))
      }
    } catch {
      missing.push(head)
    }
  }
  // Oldest first; commits of the same second in history order (a parent before its child).
  const depth = new Map<string, number>()
  const depthOf = (cid: string): number => {
    const known = depth.get(cid)
    if (known !== undefined) return known
    const d = 1 + Math.max(0, ...(seen.get(cid)?.parents ?? []).filter(p => seen.has(p)).map(depthOf))
    depth.set(cid, d)
    return d
  }
  const versions = [...seen.values()].sort((a, b) => a.time - b.time || depthOf(a.cid) - depthOf(b.cid) || (a.cid < b.cid ? -1 : 1))
  const cids = new Set(versions.map(v => v.cid))
  const jobs = ctx.index.events({ contract: 'market', names: ['JobPosted'] })
    .filter(e => cids.has(cidString(e.args.datasetCid) ?? '')).map(e => ({ id: String(e.args.jobId), version: cidString(e.args.datasetCid) }))
  const heads = daoHeads(ctx).filter(h => h.name === name)
  return { name, daos: heads, versions, missing, jobs }
}

export async function versionView (ctx: ExplorerContext, ref: string) {
  const cid = parseCid(ref)
  await present(ctx, cid)
  const { summary, files } = await shownVersion(ctx, cid)
  return { ...summary, fileList: files.map(f => ({ path: f.path, cid: f.cid.toString(), size: f.size })) }
}

export async function diffView (ctx: ExplorerContext, from: string, to: string) {
  await present(ctx, parseCid(from))
  await present(ctx, parseCid(to))
  const diff = await diffVersions(ctx.content.store, from, to)
  return { from: diff.from.toString(), to: diff.to.toString(), unchanged: diff.unchanged, files: diff.files }
}

export async function fileBytes (ctx: ExplorerContext, version: string, path: string): Promise<Buffer> {
  const cid = parseCid(version)
  await present(ctx, cid)
  return readVersionFile(ctx.content.blocks, cid, path)
}

export function parseCid (ref: string): CID {
  try {
    return CID.parse(ref)
  } catch (cause) {
    throw new NotIndexedError(`"${ref}" is not a CID`, { hint: 'version ids look like bafyrei...', details: { ref }, cause })
  }
}

/** DAGs fetched whole from peers by this process (and so held, every block checked): not walked again. */
const fetched = new WeakMap<ExplorerContext['content'], Set<string>>()

/**
 * Makes sure a version (or run) named by CID is held: from the home's stores, else, when
 * the explorer runs in a node, fetched whole from peers (every block checked against its
 * CID as it arrives). In a node the whole DAG is made sure of once, not only its root: an
 * earlier fetch cut short leaves the root without all of its blocks.
 */
export async function present (ctx: ExplorerContext, cid: CID): Promise<void> {
  const done = fetched.get(ctx.content) ?? new Set<string>()
  fetched.set(ctx.content, done)
  if (done.has(cid.toString())) return
  let cause: unknown
  if (ctx.fetchContent !== undefined) {
    try {
      await ctx.fetchContent(cid)
      done.add(cid.toString())
      return
    } catch (error) {
      cause = error
    }
  } else if (await ctx.content.blocks.has(cid)) {
    return
  }
  throw new ContentMissingError(`version ${cid} is in none of this home's stores${ctx.fetchContent === undefined ? '' : ' and no peer gave all of it'}`, {
    hint: ctx.fetchContent === undefined ? 'fetch it with commons dataset fetch, or serve the explorer from a running node (commons node start --explorer-port) to fetch it from peers' : 'a peer that holds it must be connected; the page tries again when reloaded',
    details: { cid: cid.toString(), stores: ctx.content.dirs },
    cause
  })
}
