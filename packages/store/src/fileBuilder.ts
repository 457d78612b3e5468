import type { ImporterOptions } from 'ipfs-unixfs-importer'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { boundedWriter, cidOf, FileTree, type FileTreeSettings } from './fileTree.ts'

export interface FileBuilderSettings extends FileTreeSettings {
  /** Block writes in flight at once. */
  writeConcurrency?: number
}

export type FileBuilder = NonNullable<ImporterOptions['fileBuilder']>

/** Stores one leaf (a raw block whose CID the caller made) and adds it to the file's tree. */
export type AddLeaf = (cid: CID, bytes: Uint8Array) => Promise<void>

/**
 * Stores and adds leaves cut from one buffer, in order: leaf i is `bytes[ends[i - 1]
 * (0 for the first), ends[i])` and its CID `cids[i]`.
 */
export type AddLeaves = (bytes: Uint8Array, ends: ArrayLike<number>, cids: CID[]) => Promise<void>

/**
 * A blockstore (what the importer hands a file builder) that may store a batch of
 * leaves cut from one buffer in one call (commitWriter): one put per leaf costs more
 * than cutting and hashing the leaf.
 */
export interface LeafWriter extends Pick<Blockstore, 'put'> {
  putLeaves?: AddLeaves
}

/**
 * A file builder that makes the file's content-defined tree (FileTree) from the leaves
 * `feed` adds, in order: the block writes (bounded in flight), the tree and the
 * importer's result are the same whoever cuts and hashes the leaves.
 */
export function treeFileBuilder (feed: (file: Parameters<FileBuilder>[0], leaves: { addLeaf: AddLeaf, addLeaves: AddLeaves }) => Promise<void>, settings: FileBuilderSettings = {}): FileBuilder {
  return async function buildFile (file, blocks: LeafWriter) {
    const { write, drain } = boundedWriter((cid, bytes) => blocks.put(cid, bytes), settings.writeConcurrency ?? 64)
    const tree = new FileTree(write, settings)
    const addLeaf: AddLeaf = async (cid, bytes) => {
      await write(cid, bytes)
      await tree.addLeaf(cid, bytes.length)
    }
    const putLeaves = blocks.putLeaves?.bind(blocks)
    const addLeaves: AddLeaves = async (bytes, ends, cids) => {
      if (putLeaves !== undefined) await putLeaves(bytes, ends, cids)
      let start = 0
      for (let i = 0; i < ends.length; i++) {
        if (putLeaves === undefined) await write(cids[i], bytes.subarray(start, ends[i]))
        const adding = tree.addLeaf(cids[i], ends[i] - start)
        if (adding !== undefined) await adding
        start = ends[i]
      }
    }
    await feed(file, { addLeaf, addLeaves })
    const root = await tree.finish()
    await drain()
    return { cid: root.cid, size: root.dagSize, path: file.path, unixfs: root.unixfs, originalPath: file.originalPath }
  }
}

/**
 * Builds a UnixFS file from already-cut chunks as a content-defined tree (FileTree).
 * The result is an ordinary UnixFS file that any IPFS implementation reads.
 *
 * It replaces the importer's own file builder (the importer still builds the
 * directories) because the generic one spends most of an import on per-chunk
 * bookkeeping: this one hashes synchronously and bounds writes in flight.
 */
export function contentDefinedFileBuilder (settings: FileBuilderSettings = {}): FileBuilder {
  return treeFileBuilder(async (file, { addLeaf }) => {
    for await (const chunk of file.content) {
      if (chunk.length > 0) await addLeaf(cidOf(raw.code, chunk), chunk)
    }
  }, settings)
}
