import type { Store } from './store.ts'
import { findDataset, withDatasetLock, writeDataset, type DatasetRef } from './refs.ts'
import { DatasetExistsError } from './errors.ts'

/** Creates an empty dataset named `name`. */
export async function initDataset (store: Store, name: string): Promise<DatasetRef> {
  return withDatasetLock(store, name, async () => {
    if (await findDataset(store, name) !== null) {
      throw new DatasetExistsError(`dataset "${name}" already exists`, {
        hint: `run commons dataset log ${name}, or choose another name`, details: { name }
      })
    }
    const ref: DatasetRef = { name, head: null, created: new Date().toISOString() }
    await writeDataset(store, ref)
    return ref
  })
}
