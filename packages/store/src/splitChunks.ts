import { fastCdcMasks, findCut, type FastCdcParams } from './fastcdc.ts'
import { CID_BYTES, leafCids, type CutChunks } from './chunkBatch.ts'

/** Chunks cut by one job, placed in the file: `bytes` starts at file offset `offset`. */
export interface Piece extends CutChunks {
  offset: number
}

/**
 * The chunks of a file cut in segments by several jobs, exactly as one pass cuts it.
 *
 * Job j cuts from the segment's start S_j to its first cut at or past S_(j+1). A cut
 * depends only on where its chunk starts and the bytes after, so job 0's chunks are
 * the true ones; job j+1 started at S_(j+1), likely not a true boundary, so its first
 * chunks may differ. From the true chain's position t (job j's last cut), this thread
 * cuts on with findCut over job j+1's bytes until t is one of job j+1's boundaries;
 * from there both chains are the same, and job j+1's chunks are taken as they are.
 * Chains meet within a few chunks on real data; on data where they never meet (long
 * runs of one byte with segments not a multiple of maxSize apart) this thread cuts
 * the whole segment itself: slower, never different.
 */
export async function * stitchSegments (segments: Array<AsyncIterator<Piece>>, params: FastCdcParams): AsyncGenerator<CutChunks> {
  const masks = fastCdcMasks(params)
  const readers = segments.map(segment => new SegmentReader(segment))
  let k = 0
  let t = 0
  for (;;) {
    // The true chain goes through t, a boundary of segment k: its chunks from t on are true.
    for await (const chunks of readers[k].chunksFrom(t)) yield chunks
    t = readers[k].end
    k++
    for (;;) {
      while (k < readers.length && await readers[k].endsBefore(t)) k++
      if (k === readers.length) return
      if (await readers[k].hasBoundary(t)) break
      const view = await windowAt(readers, k, t, params.maxSize)
      if (view.length === 0) return
      const cut = findCut(view, 0, view.length, params, masks)
      yield leafChunk(view.subarray(0, cut))
      t += cut
    }
  }
}

/** One chunk cut and hashed on this thread. */
function leafChunk (bytes: Uint8Array): CutChunks {
  const ends = Uint32Array.of(bytes.length)
  return { bytes, ends, cids: leafCids(bytes, ends) }
}

/**
 * File bytes [t, t + length), or fewer at the end of the file, from segment k and the
 * ones after it (segment k ends at or past where segment k+1 starts).
 */
async function windowAt (readers: SegmentReader[], k: number, t: number, length: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let at = t
  for (let r = k; r < readers.length && at < t + length; r++) {
    const part = await readers[r].slice(at, t + length)
    parts.push(part)
    at += part.length
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts)
}

/** A job's pieces, read as far as asked; pieces wholly before the chain's position are let go. */
class SegmentReader {
  readonly #source: AsyncIterator<Piece>
  #pieces: Piece[] = []
  #done = false
  /** File offset just past the bytes received so far. */
  #covered: number | undefined
  /** The last boundary of the pieces let go (the segment's start before any). */
  #dropped: number | undefined

  constructor (source: AsyncIterator<Piece>) {
    this.#source = source
  }

  /** Where the job's last chunk ends (once it is read to the end). */
  get end (): number {
    return this.#covered ?? 0
  }

  async #more (): Promise<boolean> {
    if (this.#done) return false
    const next = await this.#source.next()
    if (next.done === true) {
      this.#done = true
      return false
    }
    const piece = next.value
    this.#dropped ??= piece.offset
    this.#covered = piece.offset + piece.bytes.length
    this.#pieces.push(piece)
    return true
  }

  async #cover (t: number): Promise<void> {
    while ((this.#covered === undefined || this.#covered < t) && await this.#more()) { /* read on */ }
  }

  /** Whether the job's chunks all end before t (nothing of it is at or past t). */
  async endsBefore (t: number): Promise<boolean> {
    await this.#cover(t)
    return this.#covered === undefined || this.#covered < t
  }

  /** Whether a chunk of this job starts at t; lets go of the pieces before t. */
  async hasBoundary (t: number): Promise<boolean> {
    await this.#cover(t)
    while (this.#pieces.length > 0 && this.#pieces[0].offset + this.#pieces[0].bytes.length < t) {
      this.#dropped = this.#pieces[0].offset + this.#pieces[0].bytes.length
      this.#pieces.shift()
    }
    if (t === this.#dropped) return true
    const piece = this.#pieces[0]
    return piece !== undefined && indexOfEnd(piece, t) !== -1
  }

  /** Bytes [from, to) of the file, as far as this job has them. */
  async slice (from: number, to: number): Promise<Uint8Array> {
    await this.#cover(to)
    const parts: Uint8Array[] = []
    for (const piece of this.#pieces) {
      const start = Math.max(from, piece.offset)
      const end = Math.min(to, piece.offset + piece.bytes.length)
      if (start < end) parts.push(piece.bytes.subarray(start - piece.offset, end - piece.offset))
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts)
  }

  /** The job's chunks after its boundary t, to its end. */
  async * chunksFrom (t: number): AsyncGenerator<CutChunks> {
    await this.#cover(t + 1)
    let piece = this.#pieces.shift()
    // Skip to the piece holding the chunk that starts at t.
    while (piece !== undefined && piece.offset + piece.bytes.length <= t) piece = this.#pieces.shift() ?? (await this.#more() ? this.#pieces.shift() : undefined)
    if (piece !== undefined) {
      const first = t === piece.offset ? 0 : indexOfEnd(piece, t) + 1
      if (first === 0) {
        yield piece
      } else {
        const skip = piece.ends[first - 1]
        yield { bytes: piece.bytes.subarray(skip), ends: piece.ends.subarray(first).map(end => end - skip), cids: piece.cids.subarray(CID_BYTES * first) }
      }
    }
    for (;;) {
      const next = this.#pieces.shift() ?? (await this.#more() ? this.#pieces.shift() : undefined)
      if (next === undefined) return
      yield next
    }
  }
}

/** The index of the chunk of `piece` that ends at file offset t, or -1. */
function indexOfEnd (piece: Piece, t: number): number {
  return t <= piece.offset ? -1 : piece.ends.indexOf(t - piece.offset)
}
