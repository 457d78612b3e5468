import type { CID } from 'multiformats/cid'
import type { BlockReader } from './blocks.ts'
import { listFiles } from './listFiles.ts'
import { readFileBytes } from './readFileContent.ts'
import { readVersion } from './version.ts'
import { PathNotFoundError } from './errors.ts'

/**
 * The whole content of one file of a version (a dataset version, a published run or
 * model folder), every block hash-checked: a fine-tuning job's base weights are the
 * model.safetensors of the model folder its recipe names.
 */
export async function readVersionFile (blocks: BlockReader, version: CID, path: string): Promise<Buffer> {
  const { tree } = await readVersion(blocks, version)
  const file = (await listFiles(blocks, tree)).find(f => f.path === path)
  if (file === undefined) throw new PathNotFoundError(`version ${version} has no file ${path}`, { details: { version: version.toString(), path } })
  return readFileBytes(blocks, file.cid)
}
