import type { ImporterOptions } from 'ipfs-unixfs-importer'
import * as raw from 'multiformats/codecs/raw'
import { boundedWriter, cidOf, FileTree, type FileTreeSettings } from './fileTree.ts'

export interface FileBuilderSettings extends FileTreeSettings {
  /** Block writes in flight at once. */
  writeConcurrency?: number
}

type FileBuilder = NonNullable<ImporterOptions['fileBuilder']>

/**
 * Builds a UnixFS file from already-cut chunks as a content-defined tree (FileTree).
 * The result is an ordinary UnixFS file that any IPFS implementation reads.
 *
 * It replaces the importer's own file builder (the importer still builds the
 * directories) because the generic one spends most of an import on per-chunk
 * bookkeeping: this one hashes synchronously and bounds writes in flight.
 */
export function contentDefinedFileBuilder (settings: FileBuilderSettings = {}): FileBuilder {
  return async function buildFile (file, blocks) {
    const { write, drain } = boundedWriter((cid, bytes) => blocks.put(cid, bytes), settings.writeConcurrency ?? 64)
    const tree = new FileTree(write, settings)
    for await (const chunk of file.content) {
      if (chunk.length === 0) continue
      const cid = cidOf(raw.code, chunk)
      await write(cid, chunk)
      await tree.addLeaf(cid, chunk.length)
    }
    const root = await tree.finish()
    await drain()
    return { cid: root.cid, size: root.dagSize, path: file.path, unixfs: root.unixfs, originalPath: file.originalPath }
  }
}
