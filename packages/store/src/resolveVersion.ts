import { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { findDataset, isDatasetName, readHead } from './refs.ts'
import { InvalidCidError } from './errors.ts'

/** A version named by a user: a CID, or a dataset name meaning that dataset's head. */
export async function resolveVersion (store: Store, ref: string): Promise<CID> {
  try {
    return CID.parse(ref.trim())
  } catch (cause) {
    if (isDatasetName(ref) && await findDataset(store, ref) !== null) return readHead(store, ref)
    throw new InvalidCidError(`"${ref}" is neither a valid CID nor a dataset in ${store.home}`, {
      hint: 'version ids look like bafyrei...; run commons dataset log NAME to list them',
      details: { ref },
      cause
    })
  }
}
