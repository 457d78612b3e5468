import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import { commitVersion, generateRows, initDataset, listFiles, openStore, readFileContent, readVersion, rowsToBytes, type Store } from './index.ts'
import { PackBlockstore } from './packBlockstore.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-read-file-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

/** The CIDs of a file's chunks, in order (leaves of its DAG). */
async function chunksOf (store: Store, cid: CID): Promise<CID[]> {
  if (cid.code !== dagPb.code) return [cid]
  const node = dagPb.decode(await readAll(store, cid))
  return (await Promise.all(node.Links.map(async link => await chunksOf(store, link.Hash)))).flat()
}

async function readAll (store: Store, cid: CID): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of store.blocks.get(cid)) parts.push(part)
  return Buffer.concat(parts)
}

describe('reading a stored file', () => {
  it('yields every byte in order across windows of chunks, and stops at a damaged chunk with the bytes before it', async () => {
    const source = join(root, 'source')
    await mkdir(source, { recursive: true })
    const content = rowsToBytes(generateRows(1_500_000, 3))
    await writeFile(join(source, 'rows.jsonl'), content)
    const store = await openStore(join(root, 'home'))
    try {
      await initDataset(store, 'read')
      const { cid } = await commitVersion(store, { name: 'read', path: source, message: 'm', time: 0 })
      const [file] = await listFiles(store.blocks, (await readVersion(store.blocks, cid)).tree)
      const chunks = await chunksOf(store, file.cid)
      assert.ok(chunks.length > 200, `several windows of 64 chunks (${chunks.length})`)
      for (const readAhead of [1, 7, 64]) {
        const parts: Uint8Array[] = []
        for await (const part of readFileContent(store.blocks, file.cid, readAhead)) parts.push(part)
        assert.ok(Buffer.concat(parts).equals(content), `read ahead ${readAhead}: the file's bytes`)
      }

      // One byte of chunk 150 changed on disk.
      const damaged = chunks[150]
      const where = (store.blocks as PackBlockstore).locate(damaged)
      assert.ok(where !== undefined)
      const pack = await open(where.path, 'r+')
      const byte = Buffer.alloc(1)
      await pack.read(byte, 0, 1, where.offset + 10)
      await pack.write(Buffer.from([byte[0] ^ 0xff]), 0, 1, where.offset + 10)
      await pack.close()
      const before = (await Promise.all(chunks.slice(0, 150).map(async c => (await readAll(store, c)).length))).reduce((a, b) => a + b, 0)
      const parts: Uint8Array[] = []
      await assert.rejects(async () => { for await (const part of readFileContent(store.blocks, file.cid)) parts.push(part) }, { name: 'CorruptBlockError' })
      assert.ok(Buffer.concat(parts).equals(content.subarray(0, before)), 'exactly the bytes before the damaged chunk')
    } finally {
      await store.close()
    }
  })
})
