import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { sha256 } from 'multiformats/hashes/sha2'
import { SeenCids } from './seenCids.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-seen-test-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

async function cids (count: number, code: number): Promise<CID[]> {
  return Promise.all(Array.from({ length: count }, async (_, i) => CID.createV1(code, await sha256.digest(new TextEncoder().encode(`block ${i}`)))))
}

describe('the set of CIDs a walk has seen', () => {
  it('answers the same in memory and with its file, which has no name while open and is gone when closed', async () => {
    const dir = join(root, 'spill')
    await mkdir(dir)
    const leaves = await cids(50_000, raw.code)
    // The same digests as dag-pb CIDs: other blocks (a walk follows a dag-pb node's links).
    const nodes = await cids(50_000, dagPb.code)
    for (const memoryEntries of [Infinity, 1_000]) {
      const seen = new SeenCids({ memoryEntries, dir })
      try {
        for (const cid of leaves) assert.equal(seen.add(cid), true)
        assert.equal(seen.onDisk, memoryEntries < leaves.length, 'new CIDs go to its file past memoryEntries')
        if (process.platform !== 'win32') assert.deepEqual(await readdir(dir), [], 'the file has no name while open: a killed walk leaves nothing')
        for (const cid of nodes.slice(0, 25_000)) assert.equal(seen.add(cid), true, 'a dag-pb CID is not the raw one of the same digest')
        for (const cid of [...leaves, ...nodes.slice(0, 25_000)]) {
          assert.equal(seen.has(cid), true)
          assert.equal(seen.add(cid), false, 'added once')
        }
        for (const cid of nodes.slice(25_000)) assert.equal(seen.has(cid), false)
        // A CID with its bytes inline (an identity multihash) longer than LMDB takes as a key.
        const inline = CID.createV1(raw.code, identity.digest(new Uint8Array(3000).fill(7)))
        assert.equal(seen.add(inline), true)
        assert.equal(seen.add(CID.createV1(raw.code, identity.digest(new Uint8Array(3000).fill(8)))), true)
        assert.equal(seen.add(inline), false)
        for (let i = 0; i < 20_000; i++) seen.add(CID.createV1(dagPb.code, await sha256.digest(new TextEncoder().encode(`more ${i}`))))
        assert.equal(seen.has(inline), true, 'found once written to the file')
        assert.equal(seen.size, 75_000 + 2 + 20_000)
      } finally {
        await seen.close()
      }
      assert.deepEqual(await readdir(dir), [], 'nothing left on disk')
    }
  })
})
