import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { ExplorerContext } from '../context.ts'

/**
 * Agents: off-chain, known by the signed cards they gossip. A node (and `commons agent
 * serve`) keeps the cards it has seen in `<home>/agent/agents.json`; the explorer shows
 * those of every home whose store it reads, newest sighting of each peer first.
 */

interface SeenCard { peerId: string, address: string, name: string, description: string, skills: string[], multiaddrs: string[], endpoints: string[], seen: string }

async function seenIn (home: string): Promise<SeenCard[]> {
  try {
    const list = JSON.parse(await readFile(join(home, 'agent', 'agents.json'), 'utf8')) as unknown
    return Array.isArray(list) ? list as SeenCard[] : []
  } catch {
    return [] // no agent ran on that home, or it is being rewritten (the next page load reads it)
  }
}

export async function listAgentViews (ctx: ExplorerContext) {
  // The homes of the stores read (a home's own, its nodes', a demo's) and the explorer's home.
  const homes = [...new Set([ctx.content.store.home, ...ctx.content.dirs, ...ctx.content.dirs.map(d => dirname(d))])]
  const byPeer = new Map<string, SeenCard & { seenBy: string[] }>()
  for (const home of homes) {
    for (const card of await seenIn(home)) {
      if (typeof card?.peerId !== 'string') continue
      const known = byPeer.get(card.peerId)
      if (known === undefined || card.seen > known.seen) byPeer.set(card.peerId, { ...card, seenBy: [...(known?.seenBy ?? []), home] })
      else known.seenBy.push(home)
    }
  }
  return [...byPeer.values()].sort((a, b) => (a.seen < b.seen ? 1 : -1)).map(a => ({
    peerId: a.peerId, address: String(a.address).toLowerCase(), name: a.name, description: a.description,
    skills: a.skills ?? [], endpoints: a.endpoints ?? [], multiaddrs: a.multiaddrs ?? [], seen: a.seen, seenBy: a.seenBy
  }))
}
