import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ChunkerPool } from './chunkerPool.ts'
import { chunkBoundaries, type FastCdcParams } from './fastcdc.ts'
import { BINARY_CHUNKS, ROW_CHUNKS } from './chunking.ts'
import { CID_BYTES, LEAF_CID_PREFIX } from './chunkBatch.ts'
import { generateRows, rowsToBytes } from './corpus.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-split-chunks-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

/** Segments of an odd size (not a multiple of any maxSize), so chains rarely start in step. */
const SEGMENT_BYTES = 1_000_003

test('a large file cut in segments on several threads gives exactly the chunks and CIDs of one pass', async () => {
  const pattern = randomBytes(1000)
  const files: Array<[string, Uint8Array, FastCdcParams]> = [
    ['corpus.jsonl', rowsToBytes(generateRows(6_000_000, 7)), ROW_CHUNKS],
    ['random.bin', randomBytes(9_000_000), BINARY_CHUNKS],
    // Random bytes in a row format: newlines are rare, most cuts stop at maxSize.
    ['random.txt', randomBytes(5_000_000), ROW_CHUNKS],
    // Chains that never meet: every cut at maxSize, segments not a multiple of it apart.
    ['zeros.bin', new Uint8Array(5_000_000), BINARY_CHUNKS],
    ['periodic.bin', Buffer.concat(Array.from({ length: 4000 }, () => pattern)), BINARY_CHUNKS]
  ]
  const pool = new ChunkerPool(3, { segmentBytes: SEGMENT_BYTES })
  try {
    for (const [name, bytes, params] of files) {
      const path = join(root, name)
      await writeFile(path, bytes)
      assert.ok(pool.segmentStarts(bytes.length).length >= 3, `${name} is cut in segments`)
      const ends: number[] = []
      let offset = 0
      for await (const batch of pool.chunks(path, params, bytes.length)) {
        let start = 0
        for (let i = 0; i < batch.ends.length; i++) {
          const chunk = batch.bytes.subarray(start, batch.ends[i])
          assert.equal(Buffer.compare(chunk, bytes.subarray(offset + start, offset + batch.ends[i])), 0, `${name}: chunk bytes at ${offset + start}`)
          const digest = createHash('sha256').update(chunk).digest()
          assert.equal(Buffer.compare(batch.cids.subarray(CID_BYTES * i, CID_BYTES * (i + 1)), Buffer.concat([LEAF_CID_PREFIX, digest])), 0, `${name}: CID of the chunk at ${offset + start}`)
          ends.push(offset + batch.ends[i])
          start = batch.ends[i]
        }
        offset += start
      }
      assert.deepEqual(ends, chunkBoundaries(bytes, params), name)
    }
  } finally {
    await pool.close()
  }
})

test('a file is one job on one thread, or below three segments', async () => {
  const one = new ChunkerPool(1, { segmentBytes: SEGMENT_BYTES })
  const three = new ChunkerPool(3, { segmentBytes: SEGMENT_BYTES })
  try {
    assert.deepEqual(one.segmentStarts(10 * SEGMENT_BYTES), [0])
    assert.deepEqual(three.segmentStarts(2 * SEGMENT_BYTES), [0])
    assert.deepEqual(three.segmentStarts(3 * SEGMENT_BYTES + 5), [0, SEGMENT_BYTES, 2 * SEGMENT_BYTES])
  } finally {
    await Promise.all([one.close(), three.close()])
  }
})
