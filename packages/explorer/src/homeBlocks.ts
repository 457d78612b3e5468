import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { blockstoreDir, openStore, type Store } from '@commons/store'

/**
 * Every store under a home, read as one: the home's own and its nodes'
 * (`<home>/nodes/<name>`, and a demo's under `<home>/demo`), so content
 * named on-chain is found wherever a node of this machine holds it. Reads only; every
 * block read through @commons/store is checked against its CID.
 */

export interface HomeBlocks {
  /** The union, as the narrow reader the store's operations take. */
  blocks: Pick<Blockstore, 'get' | 'has'>
  /** The union as a Store (for diffVersions and the other operations that take one). */
  store: Store
  /** The homes whose stores were found. */
  dirs: string[]
  close: () => Promise<void>
}

function storeHomes (home: string): string[] {
  const homes: string[] = []
  const isDir = (path: string): boolean => existsSync(path) && statSync(path).isDirectory()
  // A store is a pack store (`blockstore/`), or an older home's `blocks/` that openStore migrates.
  const hasStore = (root: string): boolean => isDir(blockstoreDir(root)) || isDir(join(root, 'blocks'))
  for (const root of [home, join(home, 'demo')]) {
    if (hasStore(root)) homes.push(root)
    if (!isDir(join(root, 'nodes'))) continue
    for (const name of readdirSync(join(root, 'nodes')).sort()) if (hasStore(join(root, 'nodes', name))) homes.push(join(root, 'nodes', name))
  }
  return homes
}

export interface HomeBlocksOptions {
  /**
   * Stores already open in this process (a running node's): read first, never opened a
   * second time (a pack store's index lives in the process that opened it), nor closed.
   */
  stores?: Store[]
}

export async function openHomeBlocks (home: string, options: HomeBlocksOptions = {}): Promise<HomeBlocks> {
  const given = options.stores ?? []
  const taken = new Set(given.map(s => resolve(s.home)))
  const opened: Store[] = []
  for (const dir of storeHomes(home)) if (!taken.has(resolve(dir))) opened.push(await openStore(dir))
  const stores = [...given, ...opened]
  const dirs = stores.map(s => s.home)
  const owner = async (cid: CID): Promise<Store | undefined> => {
    for (const s of stores) if (await s.blocks.has(cid)) return s
    return undefined
  }
  const blocks: Pick<Blockstore, 'get' | 'has'> = {
    has: (async (cid: CID) => (await owner(cid)) !== undefined) as Blockstore['has'],
    get: (async function * (cid: CID, options?: unknown) {
      const s = await owner(cid) ?? stores[0]
      if (s === undefined) return
      yield * s.blocks.get(cid, options as never)
    }) as unknown as Blockstore['get']
  }
  const close = async (): Promise<void> => { for (const s of opened) await s.close() }
  const store: Store = { home, blocks: blocks as Blockstore, datasetsDir: join(home, 'datasets'), close }
  return { blocks, store, dirs, close }
}
