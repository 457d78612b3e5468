import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { chunkParamsFor } from './chunking.ts'
import type { ChunkerPool } from './chunkerPool.ts'
import { CID_BYTES } from './chunkBatch.ts'
import { treeFileBuilder, type FileBuilder } from './fileBuilder.ts'

/**
 * The CID whose bytes the worker made, as views of them: the same CID as
 * CID.createV1(raw.code, digest) without copying into small new arrays.
 */
function leafCid (bytes: Uint8Array): CID {
  const multihash = bytes.subarray(2)
  return new CID(1, raw.code, new Digest.Digest(sha256.code, 32, multihash.subarray(2), multihash), bytes)
}

/**
 * A file builder for the importer that ignores the entry's content and has the pool
 * read the file at `sourceOf(path)`, cut and hash it (in segments on several workers
 * when it is large); here each chunk only becomes a CID (from its digest) and a leaf
 * of the file's tree (treeFileBuilder, as contentDefinedFileBuilder: the same tree
 * from the same chunks).
 */
export function pooledFileBuilder (pool: ChunkerPool, sourceOf: (path: string) => { absolute: string, size: number }, onBytes: (bytes: number) => void): FileBuilder {
  return treeFileBuilder(async (file, { addLeaves }) => {
    const path = file.path ?? ''
    const { absolute, size } = sourceOf(path)
    for await (const { bytes, ends, cids } of pool.chunks(absolute, chunkParamsFor(path), size)) {
      await addLeaves(bytes, ends, Array.from(ends, (_, i) => leafCid(cids.subarray(CID_BYTES * i, CID_BYTES * (i + 1)))))
      onBytes(ends.at(-1) ?? 0)
    }
  })
}
