import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import type { Store } from '@commons/store'

/**
 * Every blockstore under a home, read as one: the home's own (`<home>/blocks`) and its
 * nodes' (`<home>/nodes/<name>/blocks`, and a demo's under `<home>/demo`), so content
 * named on-chain is found wherever a node of this machine holds it. Reads only; every
 * block read through @commons/store is checked against its CID.
 */

export interface HomeBlocks {
  /** The union, as the narrow reader the store's operations take. */
  blocks: Pick<Blockstore, 'get' | 'has'>
  /** The union as a Store (for diffVersions and the other operations that take one). */
  store: Store
  /** The folders found. */
  dirs: string[]
  close: () => Promise<void>
}

function blockDirs (home: string): string[] {
  const dirs: string[] = []
  const isDir = (path: string): boolean => existsSync(path) && statSync(path).isDirectory()
  for (const root of [home, join(home, 'demo')]) {
    if (isDir(join(root, 'blocks'))) dirs.push(join(root, 'blocks'))
    if (!isDir(join(root, 'nodes'))) continue
    for (const name of readdirSync(join(root, 'nodes')).sort()) if (isDir(join(root, 'nodes', name, 'blocks'))) dirs.push(join(root, 'nodes', name, 'blocks'))
  }
  return dirs
}

export async function openHomeBlocks (home: string): Promise<HomeBlocks> {
  const dirs = blockDirs(home)
  const stores = dirs.map(dir => new FsBlockstore(dir))
  for (const s of stores) await s.open()
  const owner = async (cid: CID): Promise<FsBlockstore | undefined> => {
    for (const s of stores) if (await s.has(cid)) return s
    return undefined
  }
  const blocks: Pick<Blockstore, 'get' | 'has'> = {
    has: (async (cid: CID) => (await owner(cid)) !== undefined) as Blockstore['has'],
    get: (async function * (cid: CID, options?: unknown) {
      const s = await owner(cid)
      if (s === undefined) return yield * stores[0]?.get(cid, options as never) ?? []
      yield * s.get(cid, options as never)
    }) as unknown as Blockstore['get']
  }
  const close = async (): Promise<void> => { for (const s of stores) await s.close() }
  const store: Store = { home, blocks: blocks as Blockstore, datasetsDir: join(home, 'datasets'), close }
  return { blocks, store, dirs, close }
}
