import type { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { readHead } from './refs.ts'
import { readVersion, type Version } from './version.ts'

export interface LogEntry {
  cid: CID
  version: Version
}

/** Every version reachable from the head of `name`, newest first (ties: by CID). */
export async function logDataset (store: Store, name: string): Promise<LogEntry[]> {
  return logFrom(store, await readHead(store, name))
}

export async function logFrom (store: Pick<Store, 'blocks'>, head: CID): Promise<LogEntry[]> {
  const seen = new Set<string>()
  const entries: LogEntry[] = []
  const queue: CID[] = [head]
  while (queue.length > 0) {
    const cid = queue.shift() as CID
    const key = cid.toString()
    if (seen.has(key)) continue
    seen.add(key)
    const version = await readVersion(store.blocks, cid)
    entries.push({ cid, version })
    queue.push(...version.parents)
  }
  return entries.sort((a, b) => b.version.time - a.version.time || (a.cid.toString() < b.cid.toString() ? -1 : 1))
}
