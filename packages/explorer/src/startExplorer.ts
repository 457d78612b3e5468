import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { generatePrivateKey } from 'viem/accounts'
import { connect, readManifest, type Clients, type Deployment } from '@commons/chain'
import type { Store } from '@commons/store'
import type { CID } from 'multiformats/cid'
import type { ExplorerContext } from './context.ts'
import { ExplorerIndex } from './explorerIndex.ts'
import { openHomeBlocks } from './homeBlocks.ts'
import { bindIndex, indexChain } from './indexChain.ts'
import { createExplorerServer } from './server.ts'
import { PortInUseError } from './errors.ts'

export interface ExplorerOptions {
  /** The home whose deployment, stores and index the explorer uses (a demo's `<home>/demo` is found too). */
  home: string
  /** The chain to read (default: the devnet `commons chain up` runs for the home, else the manifest's RPC URL). */
  rpcUrl?: string
  /** 0 (the default) picks a free port. */
  port?: number
  host?: string
  /** Milliseconds between polls for new blocks (the index is updated live). */
  pollMs?: number
  log?: (line: string) => void
  /** The deployment, when the caller has it (a running node); default: the home's manifest. */
  deployment?: Deployment
  /** Chain clients to read with (a running node's; the explorer never signs); default: connect to the RPC. */
  clients?: Clients
  /** Stores already open in this process (a running node's), read besides the home's. */
  stores?: Store[]
  /**
   * Index to the head before serving (the default), or serve at once and index behind
   * (a node: its start is not held up by a long first indexing of a public chain; the
   * pages say the block they are indexed to and follow it).
   */
  indexFirst?: boolean
  /** Fetches content the stores lack from peers by CID, checked (a running node's fetchDag). */
  fetchContent?: (cid: CID) => Promise<void>
}

export interface RunningExplorer {
  url: string
  server: Server
  ctx: ExplorerContext
  /** Indexes to the head now (what the poll does). */
  refresh: () => Promise<bigint>
  stop: () => Promise<void>
}

/** The manifest of the home, else of the demo under it. */
export function manifestPath (home: string): string {
  const own = join(home, 'chain', 'deployment.json')
  const demo = join(home, 'demo', 'chain', 'deployment.json')
  return !existsSync(own) && existsSync(demo) ? demo : own
}

/**
 * The URL of the devnet `commons chain up` started for this home (its record sits beside
 * the manifest): a devnet brought back after the demo listens on another port than the
 * one the manifest was written with.
 */
async function devnetUrl (manifest: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(join(dirname(manifest), 'devnet.json'), 'utf8')) as { rpcUrl?: string }).rpcUrl
  } catch {
    return undefined
  }
}

/**
 * Opens the index (`<home>/explorer/index.db`), indexes the chain to its head, serves the
 * explorer, and keeps indexing every `pollMs`. Reads only: the key it connects with is
 * a throwaway that never signs.
 */
export async function startExplorer (options: ExplorerOptions): Promise<RunningExplorer> {
  const log = options.log ?? (() => {})
  const manifest = manifestPath(options.home)
  const deployment: Deployment = options.deployment ?? await readManifest(manifest)
  const clients = options.clients ?? await connect(options.rpcUrl ?? await devnetUrl(manifest) ?? deployment.rpcUrl, generatePrivateKey())
  const index = new ExplorerIndex(join(options.home, 'explorer', 'index.db'))
  const content = await openHomeBlocks(options.home, { stores: options.stores })
  bindIndex(index, deployment, await clients.public.getChainId())
  const ctx: ExplorerContext = { index, clients, deployment, content, fetchContent: options.fetchContent }
  let running: Promise<bigint> | null = null
  let queued: Promise<bigint> | null = null
  let stopping = false
  const refresh = (): Promise<bigint> => {
    // Once stop began the index is about to close: nothing new starts.
    if (stopping) return Promise.reject(new Error('the explorer is stopping'))
    if (running === null) {
      running = indexChain(clients, deployment, index, { progress: (to, head) => { log(`indexed to block ${to} of ${head}`) } }).finally(() => { running = null })
      return running
    }
    // The run in flight may have read the head before the caller's last transaction was
    // mined: the caller gets the next run, one shared by everyone who asks meanwhile.
    queued ??= running.catch(() => 0n).then(async () => { queued = null; return refresh() })
    return queued
  }
  const server = createExplorerServer(ctx, log)
  try {
    if (options.indexFirst !== false) await refresh()
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve) })
  } catch (error) {
    index.close()
    await content.close()
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
    throw new PortInUseError(`port ${options.port ?? 0} on ${options.host ?? '127.0.0.1'} is taken`, { hint: 'pass another --port, or --port 0 for any free one', details: { port: options.port, host: options.host ?? '127.0.0.1' }, cause: error })
  }
  const { port } = server.address() as AddressInfo
  if (options.indexFirst === false) refresh().catch((error: unknown) => { log(`indexing failed (retried next poll): ${String(error)}`) })
  const timer = setInterval(() => { refresh().catch((error: unknown) => { log(`indexing failed (retried next poll): ${String(error)}`) }) }, options.pollMs ?? 2000)
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/`,
    server,
    ctx,
    refresh,
    stop: async () => {
      clearInterval(timer)
      stopping = true
      await queued?.catch(() => {})
      await running?.catch(() => {})
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
      index.close()
      await content.close()
    }
  }
}
