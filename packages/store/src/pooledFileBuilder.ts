import type { ImporterOptions } from 'ipfs-unixfs-importer'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { chunkParamsFor } from './chunking.ts'
import type { ChunkerPool } from './chunkerPool.ts'
import { boundedWriter, FileTree } from './fileTree.ts'

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
      const { buffer, ends, digests } = batch
      let start = 0
      for (let i = 0; i < ends.length; i++) {
        const cid = CID.createV1(raw.code, Digest.create(sha256.code, digests.subarray(32 * i, 32 * i + 32)))
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
