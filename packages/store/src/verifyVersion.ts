import type { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { resolveVersion } from './resolveVersion.ts'
import { walkDag, type WalkOptions } from './walkDag.ts'

export interface VerifyResult {
  root: CID
  ok: boolean
  blocks: number
  bytes: number
  corrupt: CID[]
  missing: CID[]
}

/**
 * Re-hashes every block reachable from a version (its files and all its ancestors)
 * and lists those that do not match their CID or are missing.
 */
export async function verifyVersion (store: Store, ref: string, options: WalkOptions = {}): Promise<VerifyResult> {
  const root = await resolveVersion(store, ref)
  const walk = await walkDag(store.blocks, [root], options)
  return { root, ok: walk.corrupt.length === 0 && walk.missing.length === 0, ...walk }
}
