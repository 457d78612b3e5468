import type { ImporterOptions } from 'ipfs-unixfs-importer'
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
 * A file builder that makes the file's content-defined tree (FileTree) from the leaves
 * `feed` adds, in order: the block writes (bounded in flight), the tree and the
 * importer's result are the same whoever cuts and hashes the leaves.
 */
export function treeFileBuilder (feed: (file: Parameters<FileBuilder>[0], addLeaf: AddLeaf) => Promise<void>, settings: FileBuilderSettings = {}): FileBuilder {
  return async function buildFile (file, blocks) {
    const { write, drain } = boundedWriter((cid, bytes) => blocks.put(cid, bytes), settings.writeConcurrency ?? 64)
    const tree = new FileTree(write, settings)
    await feed(file, async (cid, bytes) => {
      await write(cid, bytes)
      await tree.addLeaf(cid, bytes.length)
    })
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
  return treeFileBuilder(async (file, addLeaf) => {
    for await (const chunk of file.content) {
      if (chunk.length > 0) await addLeaf(cidOf(raw.code, chunk), chunk)
    }
  }, settings)
}
