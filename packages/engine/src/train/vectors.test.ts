import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { buildVectors } from './vectors.ts'

describe('shared test vectors', () => {
  it('the committed vectors are exactly what the engine computes (never hand-edited)', async () => {
    for (const [name, content] of Object.entries(buildVectors())) {
      const committed = await readFile(fileURLToPath(new URL(`../../../../vectors/${name}`, import.meta.url)), 'utf8')
      assert.equal(committed, content, `vectors/${name} is stale: run npm run vectors`)
    }
  })
})
