import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { PackBlockstore } from './packBlockstore.ts'
import { readFileContent } from './readFileContent.ts'
import { dagBlocks, walkDag } from './walkDag.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-walk-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

async function put (store: PackBlockstore, code: number, bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(code, await sha256.digest(bytes))
  await store.putBehind(cid, bytes)
  return cid
}

/**
 * A file DAG made to hold a walk's reads down: 40 levels, each node linking the next
 * level first, then 173 chunks. A walk reading each node's links ahead as it meets
 * them holds every level's chunks while it goes down (6,920 blocks: the whole file).
 */
async function deepFile (store: PackBlockstore): Promise<{ root: CID, blocks: number }> {
  let below: CID | undefined
  let blocks = 0
  for (let level = 0; level < 40; level++) {
    const links = below === undefined ? [] : [{ Hash: below, Tsize: 1 }]
    for (let k = 0; k < 173; k++) links.push({ Hash: await put(store, raw.code, new TextEncoder().encode(`chunk ${level} ${k}`)), Tsize: 1 })
    const data = new UnixFS({ type: 'file', blockSizes: links.map(() => 1n) }).marshal()
    below = await put(store, dagPb.code, dagPb.encode(dagPb.prepare({ Data: data, Links: links })))
    blocks += links.length - (level === 0 ? 0 : 1) + 1
  }
  return { root: below as CID, blocks }
}

/** Counts the blocks the store was asked to read, so a test can see how many a walk holds. */
function countReads (store: PackBlockstore): { started: () => number } {
  const readBlocks = store.readBlocks.bind(store)
  let started = 0
  store.readBlocks = (cids: CID[]) => {
    started += cids.length
    return readBlocks(cids)
  }
  return { started: () => started }
}

describe('walking a DAG', () => {
  it('holds at most its read-ahead, however deep the DAG: a peer\'s dataset cannot set the memory of verify, export or serving', async () => {
    const store = new PackBlockstore(join(root, 'deep'))
    await store.open()
    try {
      const file = await deepFile(store)
      await store.flush()
      const reads = countReads(store)
      for (const readAhead of [256, 32]) {
        const start = reads.started()
        let visited = 0
        let held = 0
        for await (const _ of dagBlocks(store, file.root, { readAhead })) {
          visited++
          held = Math.max(held, reads.started() - start - visited)
        }
        assert.equal(visited, file.blocks)
        assert.ok(held <= readAhead, `read ahead ${readAhead}: at most that many held (${held})`)
      }
      const start = reads.started()
      let parts = 0
      let held = 0
      for await (const _ of readFileContent(store, file.root, 128)) {
        parts++
        held = Math.max(held, reads.started() - start - parts)
      }
      assert.equal(parts, 40 * 173)
      // The 128 chunks ahead and a few nodes above them per level read ahead of their use.
      assert.ok(held <= 128 + 40 * 4, `reading the file: the window, not the file (${held})`)
    } finally {
      await store.close()
    }
  })

  it('walks the same with its set of CIDs seen moved to a file: every block once, in the same order, the file gone after', async () => {
    const store = new PackBlockstore(join(root, 'spilled'))
    await store.open()
    try {
      const file = await deepFile(store)
      // A node linking one chunk twice, then the deep file: the chunk is visited once.
      const shared = await put(store, raw.code, new TextEncoder().encode('shared'))
      const top = await put(store, dagPb.code, dagPb.encode(dagPb.prepare({ Links: [{ Hash: shared }, { Hash: shared }, { Hash: file.root }] })))
      await store.flush()
      const order = async (seen?: { memoryEntries: number, dir: string }): Promise<string[]> => {
        const visited: string[] = []
        for await (const { cid } of dagBlocks(store, top, { seen })) visited.push(cid.toString())
        return visited
      }
      const dir = join(root, 'seen-files')
      await mkdir(dir)
      const inMemory = await order()
      assert.equal(inMemory.length, file.blocks + 2)
      assert.equal(new Set(inMemory).size, inMemory.length, 'every block once')
      assert.deepEqual(await order({ memoryEntries: 100, dir }), inMemory)
      assert.deepEqual(await readdir(dir), [], 'the file is removed when the walk ends')
      const walked = await walkDag(store, [top, file.root], { seen: { memoryEntries: 100, dir } })
      assert.deepEqual({ ...walked }, { ...await walkDag(store, [top]) })
      assert.equal(walked.blocks, file.blocks + 2)
      // A walk stopped part-way removes its file too.
      for await (const _ of dagBlocks(store, top, { seen: { memoryEntries: 100, dir } })) break
      assert.deepEqual(await readdir(dir), [])
    } finally {
      await store.close()
    }
  })

  it('visits a root named twice once, reports a missing root once, and a block that does not decode as corrupt', async () => {
    const store = new PackBlockstore(join(root, 'roots'))
    await store.open()
    try {
      const stored = await put(store, raw.code, new TextEncoder().encode('stored'))
      const absent = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode('absent')))
      await store.flush()
      const told: Array<[number, number]> = []
      const walk = await walkDag(store, [stored, stored, absent, absent], { onProgress: (blocks, bytes) => told.push([blocks, bytes]) })
      assert.deepEqual({ blocks: walk.blocks, missing: walk.missing.map(String), corrupt: walk.corrupt.length }, { blocks: 1, missing: [absent.toString()], corrupt: 0 })
      assert.deepEqual(told, [[1, 6]], 'progress told once per intact block')
      // Bytes that hash to their dag-pb CID but are not dag-pb: reported, not thrown.
      const garbled = await put(store, dagPb.code, Uint8Array.of(0xff, 0xff, 0xff))
      await store.flush()
      const bad = await walkDag(store, [garbled, stored])
      assert.deepEqual({ blocks: bad.blocks, corrupt: bad.corrupt.map(String) }, { blocks: 1, corrupt: [garbled.toString()] })
      await assert.rejects(async () => { for await (const _ of dagBlocks(store, garbled)) { /* drained */ } }, { name: 'CorruptBlockError' })
    } finally {
      await store.close()
    }
  })
})
