import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Blockstore } from 'interface-blockstore'
import { PackBlockstore } from './packBlockstore.ts'
import { migrateFsBlocks } from './migrateFsBlocks.ts'
import { migrationReporter } from './migrationReport.ts'

/** Local state of one Commons home: the blockstore and the dataset refs. */
export interface Store {
  home: string
  blocks: Blockstore
  /** One JSON ref file per dataset. */
  datasetsDir: string
  close(): Promise<void>
}

import { defaultHome } from './home.ts'

export { defaultHome }

/** Where a home keeps its blocks: pack files and their index (see PackBlockstore). */
export function blockstoreDir (home: string): string {
  return join(home, 'blockstore')
}

/**
 * Opens (creating if needed) the store under `home`. A home written by an older
 * Commons (one file per block under `blocks/`) is moved into the pack store first,
 * told to the reporter set with reportStoreMigrations (migrationReport.ts).
 */
export async function openStore (home: string = defaultHome()): Promise<Store> {
  const datasetsDir = join(home, 'datasets')
  await mkdir(datasetsDir, { recursive: true })
  const blocks = new PackBlockstore(blockstoreDir(home))
  await blocks.open()
  try {
    await migrateFsBlocks(home, blocks, migrationReporter())
  } catch (error) {
    await blocks.close()
    throw error
  }
  return { home, blocks, datasetsDir, close: async () => { await blocks.close() } }
}
