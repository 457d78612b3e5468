import { logFrom, scanDatasets, type Store } from '@commons/store'
import type { CID } from 'multiformats/cid'
import { DEFAULT_ANNOUNCE_INTERVAL_MS } from './constants.ts'
import type { NetworkNode } from './network.ts'

export interface AnnouncerComponents {
  network: Pick<NetworkNode, 'provide'>
  store: Store
}

export interface AnnouncerInit {
  /** Milliseconds between looks for versions not provided yet (default 15 s). */
  intervalMs?: number
}

export interface Announcer {
  start(): Promise<void>
  stop(): Promise<void>
  /** Looks once for versions not provided yet and provides them; resolves when done. */
  scan(): Promise<void>
  /** CIDs the DHT has taken a provider record for, in the order provided. */
  provided(): string[]
}

/**
 * Makes every version the node holds findable by anyone on the DHT: every version of
 * every dataset in the store (the node's datasets, the runs and op traces it published,
 * the models it keeps, all stored as dataset versions), history included. It provides
 * them at start and then looks for new heads every interval, so a run committed by the
 * trainer role is announced within one interval without the roles knowing about the DHT.
 * A provide that fails (no DHT peer yet) is tried again at the next look; the DHT
 * re-provides what was taken before its records expire.
 */
export function createAnnouncer (components: AnnouncerComponents, init: AnnouncerInit = {}): Announcer {
  const intervalMs = init.intervalMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS
  const done = new Set<string>()
  const order: string[] = []
  const stopping = new AbortController()
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null

  // Heads whose whole history is provided: the next looks skip them without reading it.
  const finished = new Set<string>()
  const provideAll = async (): Promise<void> => {
    const { datasets } = await scanDatasets(components.store)
    for (const ref of datasets) {
      if (ref.head === null || finished.has(ref.head.toString())) continue
      const versions = await logFrom(components.store, ref.head)
      for (const { cid } of versions) await provideOne(cid)
      if (versions.every(({ cid }) => done.has(cid.toString()))) finished.add(ref.head.toString())
    }
  }
  const provideOne = async (cid: CID): Promise<void> => {
    const key = cid.toString()
    if (done.has(key) || stopping.signal.aborted) return
    try {
      await components.network.provide(cid, { signal: stopping.signal })
      done.add(key)
      order.push(key)
    } catch {
      // No DHT peer took it (yet): the next look tries again.
    }
  }
  const scan = async (): Promise<void> => {
    running ??= provideAll().catch(() => {}).finally(() => { running = null })
    await running
  }
  const tick = (): void => {
    timer = setTimeout(() => { scan().finally(() => { if (!stopping.signal.aborted) tick() }).catch(() => {}) }, intervalMs)
    timer.unref()
  }
  return {
    async start () {
      void scan()
      tick()
    },
    async stop () {
      stopping.abort()
      if (timer !== null) clearTimeout(timer)
      await running
    },
    scan,
    provided: () => [...order]
  }
}
