import { exporter } from 'ipfs-unixfs-exporter'
import type { CID } from 'multiformats/cid'
import { verifyingReader, type BlockReader } from './blocks.ts'

export interface FileEntry {
  /** Path inside the version, with `/` separators. */
  path: string
  cid: CID
  size: number
}

/** Every file of a UnixFS tree, sorted by path. Reads only directory and file-root blocks. */
export async function listFiles (blocks: BlockReader, tree: CID): Promise<FileEntry[]> {
  const reader = verifyingReader(blocks)
  const files: FileEntry[] = []
  const visit = async (cid: CID, prefix: string): Promise<void> => {
    const entry = await exporter(cid, reader)
    if (entry.type === 'directory') {
      for await (const child of entry.entries()) await visit(child.cid, prefix === '' ? child.name : `${prefix}/${child.name}`)
    } else {
      files.push({ path: prefix, cid, size: Number(entry.size) })
    }
  }
  await visit(tree, '')
  return files.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
}
