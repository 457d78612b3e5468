import { readdir } from 'node:fs/promises'
import { createReadStream } from 'node:fs'
import { join, relative } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import { importer } from 'ipfs-unixfs-importer'

/**
 * The reference ingest of the storage benchmark: the UnixFS importer that Helia's
 * `unixfs.addAll` runs, with its default settings (CIDv1, raw leaves, 256 KiB fixed
 * chunks, balanced DAG), into blockstore-fs, the on-disk store Helia offers in Node.
 * Usage: node heliaImport.ts SOURCE_DIR BLOCKS_DIR (prints the root CID).
 */
const [source, blocksDir] = process.argv.slice(2)
const paths = (await readdir(source, { recursive: true, withFileTypes: true }))
  .filter(entry => entry.isFile())
  .map(entry => join(entry.parentPath, entry.name))
  .sort()
const blocks = new FsBlockstore(blocksDir)
await blocks.open()
let root = ''
const files = paths.map(path => ({ path: relative(source, path), content: createReadStream(path) }))
for await (const entry of importer(files, blocks, { cidVersion: 1, rawLeaves: true, wrapWithDirectory: true })) root = entry.cid.toString()
await blocks.close()
console.log(root)
