import type { CompactOptions, CompactResult } from './compactPacks.ts'
import { CompactionError } from './errors.ts'
import { PackBlockstore } from './packBlockstore.ts'
import type { Store } from './store.ts'

/** Compacts the pack files of a home's store (PackBlockstore.compact; see compactPacks.ts). */
export async function compactStore (store: Pick<Store, 'blocks' | 'home'>, options: CompactOptions = {}): Promise<CompactResult> {
  if (!(store.blocks instanceof PackBlockstore)) {
    throw new CompactionError(`the store of ${store.home} keeps no pack files`, { hint: 'open the home with openStore', details: { home: store.home } })
  }
  return store.blocks.compact(options)
}
