import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import * as raw from 'multiformats/codecs/raw'
import { commitVersion, getVerifiedBlock, initDataset, listFiles, openStore, readVersion, type Store } from './index.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-cidcompat-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

const CHUNK = 262144

describe('dataset commit --cid-compat (ipfs add --cid-version=1)', () => {
  it('gives each file the layout of ipfs add: a one-chunk file is its raw leaf, larger ones 256 KiB raw leaves under balanced nodes of at most 174 links', async () => {
    const store: Store = await openStore(join(root, 'home'))
    try {
      const data = join(root, 'data')
      await mkdir(data)
      await writeFile(join(data, 'hello.txt'), 'hello world')
      await writeFile(join(data, 'big.bin'), Buffer.alloc(175 * CHUNK + 5, 7))
      await initDataset(store, 'compat')
      const { cid } = await commitVersion(store, { name: 'compat', path: data, message: 'm', author: 'a', time: 1, layout: 'ipfs-add' })
      const files = await listFiles(store.blocks, (await readVersion(store.blocks, cid)).tree)
      const hello = files.find(f => f.path === 'hello.txt')
      // What `printf 'hello world' | ipfs add --cid-version=1` prints.
      assert.equal(hello?.cid.toString(), 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')

      const big = files.find(f => f.path === 'big.bin')
      assert.ok(big !== undefined)
      assert.equal(big.cid.code, dagPb.code)
      const top = dagPb.decode(await getVerifiedBlock(store.blocks, big.cid)).Links
      // 176 leaves: one node of 174, one of the last 2, as Kubo's balanced builder fills it.
      assert.equal(top.length, 2)
      const first = dagPb.decode(await getVerifiedBlock(store.blocks, top[0].Hash)).Links
      const second = dagPb.decode(await getVerifiedBlock(store.blocks, top[1].Hash)).Links
      assert.deepEqual([first.length, second.length], [174, 2])
      assert.ok(first.every(link => link.Hash.code === raw.code && link.Tsize === CHUNK))
      assert.deepEqual(second.map(link => link.Tsize), [CHUNK, 5])

      const plain = await commitVersion(store, { name: 'compat', path: data, message: 'n', author: 'a', time: 2 })
      const commonsBig = (await listFiles(store.blocks, (await readVersion(store.blocks, plain.cid)).tree)).find(f => f.path === 'big.bin')
      assert.notEqual(commonsBig?.cid.toString(), big.cid.toString(), 'the default layout is content-defined, not ipfs add\'s')
    } finally {
      await store.close()
    }
  })
})
