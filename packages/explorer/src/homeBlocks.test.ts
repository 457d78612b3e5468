import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CarReader } from '@ipld/car'
import { CID } from 'multiformats/cid'
import { commitVersion, initDataset, listFiles, openStore, readVersion } from '@commons/store'
import type { ExplorerContext } from './context.ts'
import { openHomeBlocks, type HomeBlocks } from './homeBlocks.ts'
import { createExplorerServer } from './server.ts'
import { fileBytes, versionView } from './views/datasets.ts'

/**
 * Content by CID from every store under a home, every block checked: a store whose block
 * was swapped for other bytes (a damaged disk, or someone planting a file) makes the
 * explorer refuse to show it, never show the planted bytes.
 */

let home: string
let version: string
let content: HomeBlocks

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-explorer-blocks-'))
  const store = await openStore(join(home, 'demo', 'nodes', 'curator'))
  const source = join(home, 'source')
  await mkdir(source, { recursive: true })
  await writeFile(join(source, 'rows.jsonl'), '{"id": 1}\n{"id": 2}\n')
  await initDataset(store, 'tiny')
  version = (await commitVersion(store, { name: 'tiny', path: source, message: 'two rows' })).cid.toString()
  await store.close()
  await openStore(join(home, 'nodes', 'other')).then(async s => s.close())
  content = await openHomeBlocks(home)
})

after(async () => {
  await content?.close()
  await rm(home, { recursive: true, force: true })
})

describe('openHomeBlocks', () => {
  it('finds the stores of the home\'s nodes and of a demo under it, and reads a version from them', async () => {
    assert.equal(content.dirs.length, 2)
    const ctx = { content } as ExplorerContext
    const view = await versionView(ctx, version)
    assert.equal(view.message, 'two rows')
    assert.deepEqual(view.fileList.map(f => f.path), ['rows.jsonl'])
    assert.equal((await fileBytes(ctx, version, 'rows.jsonl')).toString(), '{"id": 1}\n{"id": 2}\n')
    const server = createExplorerServer(ctx)
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/car/${version}`)
      assert.equal(res.status, 200)
      const reader = await CarReader.fromBytes(new Uint8Array(await res.arrayBuffer()))
      assert.deepEqual((await reader.getRoots()).map(String), [version], 'the whole version downloads as a CAR rooted at it')
    } finally {
      server.close()
    }
  })

  it('refuses a block whose bytes are not the ones its CID names, over HTTP too', async () => {
    const ctx = { content } as ExplorerContext
    const { tree } = await readVersion(content.blocks, CID.parse(version))
    const [file] = await listFiles(content.blocks, tree)
    const curator = await openStore(join(home, 'demo', 'nodes', 'curator'))
    await curator.blocks.put(file.cid, new TextEncoder().encode('{"id": 666}\n'))
    await curator.close()
    await assert.rejects(fileBytes(ctx, version, 'rows.jsonl'), { name: 'CorruptBlockError' })
    const server = createExplorerServer(ctx)
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/files/${version}/rows.jsonl`)
      assert.equal(res.status, 502)
      assert.equal(((await res.json()) as { error: { name: string } }).error.name, 'CorruptBlockError')
    } finally {
      server.close()
    }
  })
})
