import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { importTree } from './importTree.ts'
import { ChunkerPool } from './chunkerPool.ts'
import { chunkBoundaries } from './fastcdc.ts'
import { ROW_CHUNKS, BINARY_CHUNKS } from './chunking.ts'
import { generateRows, rowsToBytes } from './corpus.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-chunker-pool-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

/** Every block an import writes, by CID. */
function recorder (): { put: (cid: CID, bytes: Uint8Array) => Promise<CID>, blocks: Map<string, string> } {
  const blocks = new Map<string, string>()
  return { blocks, put: async (cid, bytes) => { blocks.set(cid.toString(), Buffer.from(bytes).toString('base64')); return cid } }
}

test('worker threads cut exactly where one pass over the whole file cuts: corpus, random and tiny files', async () => {
  const dir = join(root, 'mixed')
  await mkdir(join(dir, 'sub'), { recursive: true })
  const corpus = rowsToBytes(generateRows(6_000_000, 3))
  const random = randomBytes(9_000_000)
  await writeFile(join(dir, 'corpus.jsonl'), corpus)
  await writeFile(join(dir, 'random.bin'), random)
  // Random bytes in a row format: a newline is rare, so most cuts stop at maxSize.
  await writeFile(join(dir, 'sub', 'random.txt'), random.subarray(0, 5_000_000))
  await writeFile(join(dir, 'sub', 'empty.csv'), '')
  await writeFile(join(dir, 'sub', 'one.md'), 'x')

  const pool = new ChunkerPool(2)
  try {
    for (const [bytes, name, params] of [[corpus, 'corpus.jsonl', ROW_CHUNKS], [random, 'random.bin', BINARY_CHUNKS], [random.subarray(0, 5_000_000), 'sub/random.txt', ROW_CHUNKS]] as const) {
      const ends: number[] = []
      let offset = 0
      for await (const batch of pool.chunks(join(dir, name), params)) {
        for (const end of batch.ends) ends.push(offset + end)
        offset += batch.ends.at(-1) as number
      }
      assert.deepEqual(ends, chunkBoundaries(bytes, params), name)
    }
  } finally {
    await pool.close()
  }

  const inThread = recorder()
  const single = await importTree(inThread, dir, { threads: 0 })
  for (const threads of [1, 3]) {
    const pooled = recorder()
    const result = await importTree(pooled, dir, { threads })
    assert.equal(result.tree.toString(), single.tree.toString(), `${threads} threads`)
    assert.deepEqual(pooled.blocks, inThread.blocks)
  }
})

test('a file gone before its worker reads it fails with UnreadableFileError, and the pool goes on', async () => {
  const pool = new ChunkerPool(1)
  try {
    await assert.rejects(async () => { for await (const _ of pool.chunks(join(root, 'missing.txt'), ROW_CHUNKS)) { /* nothing */ } }, { name: 'UnreadableFileError' })
    await writeFile(join(root, 'after.txt'), 'after')
    const ends: number[] = []
    for await (const batch of pool.chunks(join(root, 'after.txt'), ROW_CHUNKS)) ends.push(...batch.ends)
    assert.deepEqual(ends, [5])
  } finally {
    await pool.close()
  }
})
