import type { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { findDataset, readHead, withDatasetLock, writeDataset, type DatasetRef } from './refs.ts'
import { logFrom } from './logDataset.ts'
import { parseCid } from './version.ts'
import { DatasetExistsError, VersionNotFoundError } from './errors.ts'

/**
 * Starts dataset `newName` from a version of `name` (its head unless `at` is
 * given). Nothing is copied: both histories share blocks by content address.
 */
export async function forkDataset (store: Store, name: string, newName: string, at?: string): Promise<DatasetRef> {
  const head = await readHead(store, name)
  const point: CID = at === undefined ? head : parseCid(at)
  if (!(await logFrom(store, head)).some(entry => entry.cid.equals(point))) {
    throw new VersionNotFoundError(`${point} is not a version of "${name}"`, {
      hint: `pick one from commons dataset log ${name}`, details: { name, at: point.toString() }
    })
  }
  return withDatasetLock(store, newName, async () => {
    if (await findDataset(store, newName) !== null) {
      throw new DatasetExistsError(`dataset "${newName}" already exists`, { hint: 'choose another name', details: { name: newName } })
    }
    const ref: DatasetRef = { name: newName, head: point, created: new Date().toISOString(), forkOf: { name, at: point } }
    await writeDataset(store, ref)
    return ref
  })
}
