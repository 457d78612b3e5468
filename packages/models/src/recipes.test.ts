import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { parameterCount, readRecipe } from '@commons/engine'
import { BpeTokenizer, parseTokenizerJson } from '@commons/tokenizer'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

const root = join(import.meta.dirname, '..', '..', '..')

describe('the BPE recipe family', () => {
  it('names the committed tokenizer by its CID, with the vocabulary it has, at the sizes its names say', async () => {
    const json = await readFile(join(root, 'recipes', 'tokenizers', 'readmes-2048.json'))
    const cid = CID.createV1(raw.code, await sha256.digest(json)).toString()
    const vocab = new BpeTokenizer(parseTokenizerJson(JSON.parse(json.toString()))).vocab
    assert.equal(vocab, 2048)
    const sizes: Record<string, [number, number]> = { 'bpe-1m': [0.9e6, 1.2e6], 'bpe-10m': [8e6, 11e6], 'bpe-30m': [27e6, 32e6] }
    for (const [name, [low, high]] of Object.entries(sizes)) {
      const recipe = await readRecipe(join(root, 'recipes', `${name}.json`))
      assert.equal(recipe.tokenizer, cid, name)
      assert.equal(recipe.model.vocab, vocab, name)
      const n = parameterCount(recipe.model)
      assert.ok(n >= low && n <= high, `${name}: ${n} parameters`)
    }
  })
})
