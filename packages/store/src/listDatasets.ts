import { readdir } from 'node:fs/promises'
import type { Store } from './store.ts'
import { isBaseError } from '@commons/errors'
import { readDataset, type DatasetRef } from './refs.ts'

/** A dataset whose ref could not be read, and why (the error's name and message). */
export interface DamagedDataset {
  name: string
  error: string
  message: string
}

/**
 * Every dataset of the home, by name. A ref that cannot be read is reported in
 * `damaged` instead of failing the whole listing, so one bad file hides nothing else.
 */
export async function scanDatasets (store: Store): Promise<{ datasets: DatasetRef[], damaged: DamagedDataset[] }> {
  const names = (await readdir(store.datasetsDir))
    .filter(file => file.endsWith('.json'))
    .map(file => file.slice(0, -'.json'.length))
    .sort()
  const datasets: DatasetRef[] = []
  const damaged: DamagedDataset[] = []
  for (const name of names) {
    try {
      datasets.push(await readDataset(store, name))
    } catch (error) {
      if (!isBaseError(error)) throw error
      damaged.push({ name, error: error.name, message: error.message })
    }
  }
  return { datasets, damaged }
}

/** Every readable dataset of the home, by name (see scanDatasets for the damaged ones). */
export async function listDatasets (store: Store): Promise<DatasetRef[]> {
  return (await scanDatasets(store)).datasets
}
