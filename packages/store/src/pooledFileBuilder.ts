import type { ImporterOptions } from 'ipfs-unixfs-importer'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { chunkParamsFor } from './chunking.ts'
import type { ChunkerPool } from './chunkerPool.ts'
import { CID_BYTES } from './chunkBatch.ts'
import { boundedWriter, FileTree } from './fileTree.ts'

/**
 * The CID whose bytes the worker made, as views of them: the same CID as
 * CID.createV1(raw.code, digest) without copying into small new arrays.
 */
function leafCid (bytes: Uint8Array): CID {
  const multihash = bytes.subarray(2)
  return new CID(1, raw.code, new Digest.Digest(sha256.code, 32, multihash.subarray(2), multihash), bytes)
}

type FileBuilder = NonNullable<ImporterOptions['fileBuilder']>

/** Block writes in flight at once per file (as contentDefinedFileBuilder). */
const WRITE_CONCURRENCY = 64

/**
 * A file builder for the importer that ignores the entry's content and has a pool's
 * worker read the file at `absoluteOf(path)`, cut and hash it; here each chunk only
 * becomes a CID (from its digest), a block write and a leaf of the file's tree. The
 * tree is the one contentDefinedFileBuilder builds from the same chunks.
 */
export function pooledFileBuilder (pool: ChunkerPool, absoluteOf: (path: string) => string, onBytes: (bytes: number) => void): FileBuilder {
  return async function buildFile (file, blocks) {
    const { write, drain } = boundedWriter((cid, bytes) => blocks.put(cid, bytes), WRITE_CONCURRENCY)
    const tree = new FileTree(write)
    const path = file.path ?? ''
    for await (const batch of pool.chunks(absoluteOf(path), chunkParamsFor(path))) {
      const { buffer, ends, cids } = batch
      let start = 0
      for (let i = 0; i < ends.length; i++) {
        const cid = leafCid(cids.subarray(CID_BYTES * i, CID_BYTES * (i + 1)))
        await write(cid, new Uint8Array(buffer, start, ends[i] - start))
        await tree.addLeaf(cid, ends[i] - start)
        start = ends[i]
      }
      onBytes(start)
    }
    const root = await tree.finish()
    await drain()
    return { cid: root.cid, size: root.dagSize, path: file.path, unixfs: root.unixfs, originalPath: file.originalPath }
  }
}
