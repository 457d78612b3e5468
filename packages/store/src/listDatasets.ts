import { readdir } from 'node:fs/promises'
import type { Store } from './store.ts'
import { readDataset, type DatasetRef } from './refs.ts'

/** Every dataset of the home, by name. */
export async function listDatasets (store: Store): Promise<DatasetRef[]> {
  const names = (await readdir(store.datasetsDir))
    .filter(file => file.endsWith('.json'))
    .map(file => file.slice(0, -'.json'.length))
    .sort()
  return Promise.all(names.map(name => readDataset(store, name)))
}
