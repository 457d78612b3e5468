import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import * as raw from 'multiformats/codecs/raw'
import { cidOf } from './fileTree.ts'
import { encodeFileNode } from './fileNode.ts'

test('encodeFileNode gives the bytes @ipld/dag-pb gives, for every link count and size range', () => {
  // Tsizes across varint lengths (1 to 8 bytes), both CID codecs, 1 to 174 links.
  const sizes = [0, 1, 127, 128, 16_383, 16_384, 2 ** 21, 2 ** 35, Number.MAX_SAFE_INTEGER]
  for (const count of [1, 2, 31, 32, 173, 174]) {
    const links = Array.from({ length: count }, (_, i) => ({
      cid: cidOf(i % 2 === 0 ? raw.code : dagPb.code, randomBytes(64)),
      tsize: sizes[i % sizes.length]
    }))
    const unixfs = new UnixFS({ type: 'file' })
    for (const link of links) unixfs.addBlockSize(BigInt(link.tsize))
    const data = unixfs.marshal()
    const expected = dagPb.encode(dagPb.prepare({ Data: data, Links: links.map(l => ({ Name: '', Hash: l.cid, Tsize: l.tsize })) }))
    assert.deepEqual(encodeFileNode(data, links), expected, `${count} links`)
  }
})
