import { createHash } from 'node:crypto'
import { BaseError } from '@commons/errors'

/**
 * FastCDC content-defined chunking (Xia et al., "The Design of Fast Content-Defined
 * Chunking for Data Deduplication Based Storage Systems", 2020), with normalized
 * chunking at level 2. Boundaries depend only on the bytes near them, so an edit
 * moves at most the chunks around it.
 *
 * The boundaries are part of the storage format: the same bytes and parameters must
 * give the same chunks on every machine, forever. Do not change the gear table, the
 * masks or the cut rule without a new format version.
 */
export interface FastCdcParams {
  /** No chunk is shorter, except the last one of a file. */
  minSize: number
  /** The size chunks gravitate to; a power of two. */
  avgSize: number
  /** No chunk is longer. */
  maxSize: number
  /**
   * When set, a boundary found by the hash moves forward to just after the next
   * occurrence of this byte (a newline keeps rows of JSONL or CSV whole), within
   * `maxSize`.
   */
  alignByte?: number
}

export class InvalidChunkerParamsError extends BaseError {
  override name = 'InvalidChunkerParamsError'
}

/**
 * 256 random 32-bit words: word i is the first four bytes (big-endian) of
 * sha256("commons/fastcdc/gear/" + i). Anyone can regenerate them.
 */
export const GEAR: Uint32Array = (() => {
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    table[i] = createHash('sha256').update(`commons/fastcdc/gear/${i}`).digest().readUInt32BE(0)
  }
  return table
})()

/**
 * A mask of the `bits` highest bits. The gear hash shifts left, so bit k depends on
 * the last k + 1 bytes: high bits give the widest window.
 */
function highMask (bits: number): number {
  return (((1 << bits) - 1) << (32 - bits)) >>> 0
}

/** Checks the parameters and returns the two normalized-chunking masks. */
export function fastCdcMasks (params: FastCdcParams): { small: number, large: number } {
  const { minSize, avgSize, maxSize, alignByte } = params
  const bits = Math.log2(avgSize)
  if (!Number.isInteger(bits) || bits < 6 || bits > 28) {
    throw new InvalidChunkerParamsError(`avgSize must be a power of two between 64 and 2^28, got ${avgSize}`)
  }
  if (!(Number.isInteger(minSize) && minSize >= 1 && minSize <= avgSize && avgSize <= maxSize && Number.isInteger(maxSize))) {
    throw new InvalidChunkerParamsError(`chunk sizes must satisfy 1 <= min <= avg <= max, got ${minSize}/${avgSize}/${maxSize}`)
  }
  if (alignByte !== undefined && !(Number.isInteger(alignByte) && alignByte >= 0 && alignByte <= 255)) {
    throw new InvalidChunkerParamsError(`alignByte must be a byte value, got ${alignByte}`)
  }
  // Level-2 normalization: harder to cut before avgSize, easier after.
  return { small: highMask(bits + 2), large: highMask(bits - 2) }
}

/**
 * Where the chunk that starts at `start` ends (exclusive), looking at most at
 * `data[start, end)`. The caller must pass at least `maxSize` bytes unless `end` is
 * the end of the input, or the cut may differ from the one a longer view would give.
 */
export function findCut (
  data: Uint8Array,
  start: number,
  end: number,
  params: FastCdcParams,
  masks = fastCdcMasks(params)
): number {
  const limit = Math.min(end, start + params.maxSize)
  if (limit - start <= params.minSize) return limit
  const normal = Math.min(limit, start + params.avgSize)
  const gear = GEAR
  let hash = 0
  let i = start + params.minSize
  let cut = limit
  for (; i < normal; i++) {
    hash = ((hash << 1) + gear[data[i]]) | 0
    if ((hash & masks.small) === 0) { cut = i + 1; break }
  }
  if (cut === limit) {
    for (; i < limit; i++) {
      hash = ((hash << 1) + gear[data[i]]) | 0
      if ((hash & masks.large) === 0) { cut = i + 1; break }
    }
  }
  if (params.alignByte === undefined || cut === limit) return cut
  const next = data.indexOf(params.alignByte, cut - 1)
  return next === -1 || next >= limit ? limit : next + 1
}

/** Cuts a whole buffer; returns the end offset of every chunk. */
export function chunkBoundaries (data: Uint8Array, params: FastCdcParams): number[] {
  const masks = fastCdcMasks(params)
  const ends: number[] = []
  let start = 0
  while (start < data.length) {
    start = findCut(data, start, data.length, params, masks)
    ends.push(start)
  }
  return ends
}

/**
 * Cuts a byte stream into chunks. Chunks are views into the source's pieces or into
 * fresh buffers, so they stay valid as long as the source does not reuse its pieces.
 */
export async function * fastCdcChunks (
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  params: FastCdcParams
): AsyncGenerator<Uint8Array> {
  const masks = fastCdcMasks(params)
  let pending: Uint8Array[] = []
  let pendingBytes = 0
  for await (const piece of source) {
    pending.push(piece)
    pendingBytes += piece.length
    // Wait for two max-size chunks of input, so each copy below moves at least one
    // chunk's worth of new bytes: linear time even for a stream of tiny pieces.
    if (pendingBytes < 2 * params.maxSize) continue
    const buffer = join(pending, pendingBytes)
    // Cut everything that is sure to be final before yielding: one tight loop.
    const cuts: number[] = []
    let start = 0
    while (buffer.length - start >= params.maxSize) {
      start = findCut(buffer, start, buffer.length, params, masks)
      cuts.push(start)
    }
    let from = 0
    for (const cut of cuts) {
      yield buffer.subarray(from, cut)
      from = cut
    }
    pending = start < buffer.length ? [buffer.subarray(start)] : []
    pendingBytes = buffer.length - start
  }
  const rest = join(pending, pendingBytes)
  let start = 0
  while (start < rest.length) {
    const cut = findCut(rest, start, rest.length, params, masks)
    yield rest.subarray(start, cut)
    start = cut
  }
}

function join (pieces: Uint8Array[], length: number): Uint8Array {
  if (pieces.length === 1) return pieces[0]
  const joined = new Uint8Array(length)
  let offset = 0
  for (const piece of pieces) {
    joined.set(piece, offset)
    offset += piece.length
  }
  return joined
}
