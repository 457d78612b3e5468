import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chunkBoundaries, fastCdcChunks, findCut, GEAR, type FastCdcParams } from './fastcdc.ts'
import { generateRows, rowsToBytes, seededRandom } from './corpus.ts'

const PARAMS: FastCdcParams = { minSize: 1024, avgSize: 4096, maxSize: 16384 }

function deterministicBytes (length: number, seed: number): Uint8Array {
  const random = seededRandom(seed)
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256)
  return bytes
}

function chunksOf (data: Uint8Array, params: FastCdcParams): string[] {
  let start = 0
  return chunkBoundaries(data, params).map(end => {
    const chunk = Buffer.from(data.subarray(start, end)).toString('base64')
    start = end
    return chunk
  })
}

describe('FastCDC', () => {
  it('respects min and max sizes and lands near the average', () => {
    const data = randomBytes(8 << 20)
    const ends = chunkBoundaries(data, PARAMS)
    const sizes = ends.map((end, i) => end - (i === 0 ? 0 : ends[i - 1]))
    assert.equal(ends.at(-1), data.length)
    for (const size of sizes.slice(0, -1)) {
      assert.ok(size >= PARAMS.minSize && size <= PARAMS.maxSize, `chunk of ${size} bytes`)
    }
    const mean = data.length / sizes.length
    // Normalized chunking with a min size lands somewhat above the nominal average.
    assert.ok(mean > PARAMS.avgSize * 0.8 && mean < PARAMS.avgSize * 1.6, `mean chunk ${mean}`)
  })

  it('cuts the same on every machine: pinned gear table and boundaries', () => {
    assert.equal(GEAR[0], 0xdade9a4d)
    assert.equal(GEAR[255], 0xb6a41699)
    const data = deterministicBytes(1 << 20, 42)
    const ends = chunkBoundaries(data, PARAMS)
    // Pinned values: any change to the gear table, masks or cut rule breaks CIDs.
    assert.deepEqual(ends.slice(0, 5), PINNED_FIRST_CUTS)
    assert.equal(ends.length, PINNED_COUNT)
  })

  it('moves only the chunks around an insertion', () => {
    // Seeded data: after an edit the chunker usually resynchronises at the next cut, but
    // now and then (about 1 random input in 50) a cut falls inside the skipped minimum and
    // it takes a few more chunks. Fixed seeds keep the test exact; contiguity is the property.
    for (const seed of [1, 2, 3, 4, 5]) {
      const data = deterministicBytes(2 << 20, seed)
      const at = 1 << 20
      const edited = Buffer.concat([data.subarray(0, at), Buffer.from('an insertion of a few bytes'), data.subarray(at)])
      const before = chunksOf(data, PARAMS)
      const after = new Set(chunksOf(edited, PARAMS))
      const lost = before.flatMap((chunk, index) => after.has(chunk) ? [] : [index])
      assert.ok(before.length > 250)
      assert.ok(lost.length >= 1 && lost.length <= 2, `seed ${seed}: ${lost.length} chunks changed`)
      assert.equal(lost.at(-1)! - lost[0] + 1, lost.length, `seed ${seed}: changed chunks are not contiguous`)
      const firstLostEnd = chunkBoundaries(data, PARAMS)[lost[0]]
      assert.ok(firstLostEnd > at, `seed ${seed}: a chunk before the insertion changed`)
    }
  })

  it('aligns boundaries to rows, so every chunk holds whole rows', () => {
    const data = rowsToBytes(generateRows(2_000_000, 3))
    const params = { ...PARAMS, alignByte: 0x0a }
    const ends = chunkBoundaries(data, params)
    for (const end of ends) assert.equal(data[end - 1], 0x0a, `chunk ending at ${end} splits a row`)
  })

  it('streams to the same chunks whatever the piece sizes', async () => {
    const data = randomBytes(1 << 20)
    const whole = chunksOf(data, PARAMS)
    for (const pieceSize of [7, 777, 65536, 1 << 20]) {
      const pieces = function * (): Generator<Uint8Array> {
        for (let i = 0; i < data.length; i += pieceSize) yield data.subarray(i, i + pieceSize)
      }
      const streamed: string[] = []
      for await (const chunk of fastCdcChunks(pieces(), PARAMS)) streamed.push(Buffer.from(chunk).toString('base64'))
      assert.deepEqual(streamed, whole, `piece size ${pieceSize}`)
    }
  })

  it('gives short inputs one chunk and empty inputs none', () => {
    assert.deepEqual(chunkBoundaries(new Uint8Array(10), PARAMS), [10])
    assert.deepEqual(chunkBoundaries(new Uint8Array(0), PARAMS), [])
    assert.equal(findCut(new Uint8Array(PARAMS.maxSize * 2), 0, PARAMS.maxSize * 2, PARAMS), PARAMS.maxSize)
  })

  it('rejects parameters that make no sense', () => {
    for (const bad of [
      { minSize: 1024, avgSize: 3000, maxSize: 16384 },
      { minSize: 8192, avgSize: 4096, maxSize: 16384 },
      { minSize: 1024, avgSize: 4096, maxSize: 2048 },
      { minSize: 1024, avgSize: 4096, maxSize: 16384, alignByte: 300 }
    ]) {
      assert.throws(() => chunkBoundaries(new Uint8Array(10), bad), { name: 'InvalidChunkerParamsError' })
    }
  })
})

const PINNED_FIRST_CUTS = [3149, 7278, 9624, 13798, 16357]
const PINNED_COUNT = 224
