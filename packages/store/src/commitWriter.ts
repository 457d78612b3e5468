import type { Blockstore } from 'interface-blockstore'
import { skipExistingWriter } from './blocks.ts'
import type { LeafWriter } from './fileBuilder.ts'
import { boundedWriter } from './fileTree.ts'
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
      // Leaves already indexed are checked as put checks them (read back and compared: a
      // damaged one is written again), STORED_CHECKS at a time: a new version of a large
      // dataset has hundreds of thousands of them, each a read.
      const { write, drain } = boundedWriter(writer.put, STORED_CHECKS)
      for (const i of await blocks.putLeavesBehind(bytes, ends, cids)) await write(cids[i], bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]))
      await drain()
    }
  }
}

/** Stored leaves checked at once (what the importer's bounded writer allowed per file). */
const STORED_CHECKS = 64
