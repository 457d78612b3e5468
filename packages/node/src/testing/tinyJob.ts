import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readRecipe, type Recipe } from '@commons/engine'
import { commitVersion, generateRows, initDataset, rowsToBytes, type Store } from '@commons/store'

/**
 * What a test job needs: `rows` generated rows (from `seed`) committed as dataset
 * "corpus" in `store` (their file under `<root>/corpus`), and the tiny recipe cut to one
 * layer, two sequences and four steps, trained in seconds.
 */
export async function tinyJob (store: Store, root: string, rows: number, seed: number): Promise<{ version: string, recipe: Recipe }> {
  const source = join(root, 'corpus')
  await mkdir(source, { recursive: true })
  await writeFile(join(source, 'rows.jsonl'), rowsToBytes(generateRows(rows, seed)))
  await initDataset(store, 'corpus')
  const version = (await commitVersion(store, { name: 'corpus', path: source, message: 'rows' })).cid.toString()
  const tiny = await readRecipe(fileURLToPath(new URL('../../../../recipes/tiny.json', import.meta.url)))
  return { version, recipe: { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 4, checkpointInterval: 2 } }
}
