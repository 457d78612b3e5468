import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { compileProgram, referenceContext, tokensRootOf, type Recipe } from '@commons/engine'
import { BpeTokenizer, tokenizerFile, trainBpe } from '@commons/tokenizer'
import { cidToHex } from './cids.ts'
import { loadJobInputs, type JobTermsWithContent } from './loadJobInputs.ts'

/**
 * A requester who posts a job a trainer could claim but never train (a tokenizer that
 * does not fit the model, tokens outside the vocabulary) must not cost the trainer its
 * stake: such a job is refused by term before the claim.
 */

const root = join(import.meta.dirname, '..', '..', '..')
const rawCid = async (bytes: Uint8Array): Promise<CID> => CID.createV1(raw.code, await sha256.digest(bytes))

async function jobWith (recipe: Recipe, tokens: Int32Array, tokenizerJson: Uint8Array | null) {
  const recipeBytes = Buffer.from(JSON.stringify(recipe))
  const recipeCid = await rawCid(recipeBytes)
  const datasetCid = await rawCid(Buffer.from('a dataset'))
  const terms: JobTermsWithContent = {
    recipeCid: cidToHex(recipeCid), datasetCid: cidToHex(datasetCid), tokensRoot: tokensRootOf(tokens),
    programHash: compileProgram(referenceContext(), recipe).hash, seed: BigInt(recipe.seed), steps: recipe.steps,
    reward: 1n, trainingTime: 3600n, challengeWindow: 600n
  }
  return loadJobInputs(referenceContext(), 1n, terms, { recipe: async () => recipeBytes, tokens: async () => ({ tokens, tokenizerJson }) })
}

describe('job inputs a trainer could not train', () => {
  it('refuses, before any claim, a tokenizer that does not fit the model and tokens outside the vocabulary', async () => {
    const tiny = JSON.parse(await readFile(join(root, 'recipes', 'tiny.json'), 'utf8')) as Recipe
    const text = Buffer.from('the cat sat on the mat. '.repeat(50))
    const bpe = trainBpe(text, 280)
    const json = tokenizerFile(bpe)
    const vocab = new BpeTokenizer(bpe).vocab
    const tokenizer = (await rawCid(json)).toString()
    const tokens = new BpeTokenizer(bpe).encode(text)
    const fits = { ...tiny, tokenizer, model: { ...tiny.model, vocab } }
    assert.equal((await jobWith(fits, tokens, json)).tokens.length, tokens.length, 'a fitting BPE job loads')

    const tooWide = { ...tiny, tokenizer, model: { ...tiny.model, vocab: vocab + 10 } }
    await assert.rejects(jobWith(tooWide, tokens, json), (e: Error & { details: { term: string } }) => e.name === 'JobTermsError' && e.details.term === 'tokenizer')
    await assert.rejects(jobWith(fits, tokens, Buffer.from('{"model": {"type": "WordPiece"}}')), (e: Error & { details: { term: string } }) => e.details.term === 'tokenizer')
    const outside = Int32Array.from([...tokens.subarray(0, 100), vocab + 3])
    await assert.rejects(jobWith(fits, outside, json), (e: Error & { details: { term: string } }) => e.details.term === 'dataset')
  })
})
