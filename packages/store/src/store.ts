import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import type { Blockstore } from 'interface-blockstore'

/** Local state of one Commons home: the blockstore and the dataset refs. */
export interface Store {
  home: string
  blocks: Blockstore
  /** One JSON ref file per dataset. */
  datasetsDir: string
  close(): Promise<void>
}

/** The home used when none is given: `$COMMONS_HOME`, else `./.commons`. */
export function defaultHome (): string {
  return resolve(process.env.COMMONS_HOME ?? '.commons')
}

/** Opens (creating if needed) the store under `home`. */
export async function openStore (home: string = defaultHome()): Promise<Store> {
  const datasetsDir = join(home, 'datasets')
  await mkdir(datasetsDir, { recursive: true })
  const blocks = new FsBlockstore(join(home, 'blocks'))
  await blocks.open()
  return { home, blocks, datasetsDir, close: async () => { await blocks.close() } }
}
