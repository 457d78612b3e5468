// Writes the shared test vectors (vectors/*.json): values the engine computes, that the
// Solidity tests must reproduce bit for bit. Regenerate with `npm run vectors`; a test
// fails when the committed files differ from what the engine produces.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildVectors } from '../src/train/vectors.ts'

const dir = fileURLToPath(new URL('../../../vectors/', import.meta.url))
for (const [name, content] of Object.entries(buildVectors())) {
  writeFileSync(`${dir}${name}`, content)
  console.error(`wrote vectors/${name}`)
}
