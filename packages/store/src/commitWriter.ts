import type { Blockstore } from 'interface-blockstore'
import { equals } from 'multiformats/bytes'
import { skipExistingWriter } from './blocks.ts'
import type { LeafWriter } from './fileBuilder.ts'
import { PackBlockstore, writeBehind } from './packBlockstore.ts'

/**
 * What a commit writes its blocks through: a block the store already holds intact is
 * skipped (skipExistingWriter), the rest are written behind the import (flush before
 * publishing a CID). With the pack store, a batch of leaves the chunking workers cut
 * from one buffer is stored in one call (putLeavesBehind): a chain of async puts per
 * leaf cost the main thread more than the worker spent cutting and hashing it.
 */
export function commitWriter (blocks: Blockstore): LeafWriter {
  const writer = skipExistingWriter({ has: blocks.has.bind(blocks), get: blocks.get.bind(blocks), put: writeBehind(blocks).put })
  if (!(blocks instanceof PackBlockstore)) return writer
  return {
    put: writer.put,
    async putLeaves (bytes, ends, cids) {
      // Leaves already indexed are checked as put checks them: read back and compared, a
      // damaged one written again. A new version of a large dataset has hundreds of
      // thousands of them, lying in its packs in the order they are cut: read a range at a
      // time (readBlocks), not one read each (a re-commit of 1 GB with a row appended
      // took 16 s that way).
      const stored = await blocks.putLeavesBehind(bytes, ends, cids)
      if (stored.length === 0) return
      const reads = blocks.readBlocks(stored.map(i => cids[i]))
      for (let k = 0; k < stored.length; k++) {
        const i = stored[k]
        const leaf = bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i])
        const held = await reads[k].catch(() => undefined)
        if (held === undefined || !equals(held, leaf)) await blocks.putBehind(cids[i], leaf)
      }
    }
  }
}
