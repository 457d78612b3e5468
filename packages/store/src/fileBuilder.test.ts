import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { importTree } from './importTree.ts'
import { generateRows, rowsToBytes } from './corpus.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-file-builder-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

const discard = { put: async (cid: CID) => cid }

// Tree CIDs as the level-by-level builder gave them before it built trees online:
// a change of layout would change every dataset's CIDs.
test('keeps the tree CIDs of the 25 MB corpus (a three-level file) and of small, one-chunk and uniform files', async () => {
  const corpus = join(root, 'corpus')
  await mkdir(corpus)
  await writeFile(join(corpus, 'corpus.jsonl'), rowsToBytes(generateRows(25_000_000, 1)))
  assert.equal((await importTree(discard, corpus)).tree.toString(), 'bafybeicn56prtjzfxysl6lzeo3oh7acsgx36dz34e3kwuybzlyl4wae72m')

  const small = join(root, 'small')
  await mkdir(small)
  await writeFile(join(small, 'a.jsonl'), rowsToBytes(generateRows(3000, 2)))
  await writeFile(join(small, 'one.txt'), 'x')
  await writeFile(join(small, 'b.bin'), Buffer.alloc(5_000_000, 7))
  assert.equal((await importTree(discard, small)).tree.toString(), 'bafybeichmkcb7a332s37ynfpjmydnb5m66wx5s6tzxe2mnyllzxw37jv7e')
})
