import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { compileProgram, dataTokensRoot, initParams, paramSpecs, referenceContext, tokensRootOf, Tensor, writeSafetensors, type Recipe, type TokenStream } from '@commons/engine'
import { commitVersion, initDataset, openStore, type Store } from '@commons/store'
import { BpeTokenizer, tokenizerFile, trainBpe } from '@commons/tokenizer'
import { cidToHex } from './cids.ts'
import { baseWeightsOf, loadJobInputs, type JobTermsWithContent } from './loadJobInputs.ts'
import { modelHeaderOf } from './modelHeader.ts'

/**
 * A requester who posts a job a trainer could claim but never train (a tokenizer that
 * does not fit the model, tokens outside the vocabulary) must not cost the trainer its
 * stake: such a job is refused by term before the claim.
 */

const root = join(import.meta.dirname, '..', '..', '..')
const rawCid = async (bytes: Uint8Array): Promise<CID> => CID.createV1(raw.code, await sha256.digest(bytes))

async function jobWith (recipe: Recipe, tokens: Int32Array | TokenStream, tokenizerJson: Uint8Array | null, bases?: { posted: Tensor[], fetched: Store }) {
  const recipeBytes = Buffer.from(JSON.stringify(recipe))
  const recipeCid = await rawCid(recipeBytes)
  const datasetCid = await rawCid(Buffer.from('a dataset'))
  const terms: JobTermsWithContent = {
    recipeCid: cidToHex(recipeCid), datasetCid: cidToHex(datasetCid), tokensRoot: dataTokensRoot(tokens),
    programHash: compileProgram(referenceContext(), recipe, bases?.posted).hash, modelHeader: modelHeaderOf(recipe, dataTokensRoot(tokens)), seed: BigInt(recipe.seed), steps: recipe.steps,
    reward: 1n, trainingTime: 3600n, challengeWindow: 600n
  }
  return loadJobInputs(referenceContext(), 1n, terms, {
    recipe: async () => recipeBytes,
    tokens: async () => ({ tokens, tokenizerJson }),
    base: async (_cid, r) => await baseWeightsOf((bases as { fetched: Store }).fetched.blocks, r) as Tensor[]
  })
}

/** A store holding a model folder (model.safetensors with `weights`) as a version: its CID. */
async function storeModel (store: Store, recipe: Recipe, weights: Tensor[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'commons-base-'))
  const names = paramSpecs(recipe.model).map(s => s.name)
  await writeSafetensors(join(dir, 'model.safetensors'), weights.map((t, i) => [names[i], t]))
  await initDataset(store, 'base')
  const { cid } = await commitVersion(store, { name: 'base', path: dir, message: 'base', author: 'test', time: 0 })
  await rm(dir, { recursive: true })
  return cid.toString()
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

    // A stored stream (what a node hands in) is checked by the range recorded as it was
    // written, and its recorded root is the one the terms must bind: nothing is scanned.
    const stream = (data: Int32Array): TokenStream => ({ length: data.length, subarray: (b, e) => data.slice(b, e), tokensRoot: tokensRootOf(data), min: Math.min(...data), max: Math.max(...data) })
    const loaded = await jobWith(fits, stream(tokens), json)
    assert.equal(loaded.tokens.length, tokens.length, 'a fitting stream loads')
    assert.ok(!(loaded.tokens instanceof Int32Array), 'the stream itself, not an array of it')
    await assert.rejects(jobWith(fits, stream(outside), json), (e: Error & { details: { term: string } }) => e.name === 'JobTermsError' && e.details.term === 'dataset')
  })
})

describe('a fine-tuning job\'s base weights', () => {
  it('loads the base the job was posted with, and refuses other weights under the CID, a missing base, or a base of another model', async (t) => {
    const home = await mkdtemp(join(tmpdir(), 'commons-bases-'))
    t.after(async () => rm(home, { recursive: true, force: true }))
    const honest = await openStore(join(home, 'honest'))
    const swapped = await openStore(join(home, 'swapped'))
    const empty = await openStore(join(home, 'empty'))
    t.after(async () => { await honest.close(); await swapped.close(); await empty.close() })
    const tiny = JSON.parse(await readFile(join(root, 'recipes', 'tiny.json'), 'utf8')) as Recipe
    const drawn = { ...tiny, model: { ...tiny.model, layers: 1 } }
    const weights = initParams(drawn.model, 7)
    const cid = await storeModel(honest, drawn, weights)
    const recipe: Recipe = { ...drawn, base: cid }
    const tokens = Int32Array.from(Buffer.from('the cat sat on the mat. '.repeat(20)))
    const inputs = await jobWith(recipe, tokens, null, { posted: weights, fetched: honest })
    assert.deepEqual(inputs.base?.map(w => w.f32), weights.map(w => w.f32), 'the trainer starts from the posted base')

    // A store whose model under the name differs by one weight: the program hash is not the job's.
    const other = weights.map(w => w.f32.slice())
    other[2][5] += 1
    const otherCid = await storeModel(swapped, drawn, weights.map((w, i) => new Tensor(w.shape, other[i])))
    await assert.rejects(jobWith({ ...drawn, base: otherCid }, tokens, null, { posted: weights, fetched: swapped }),
      (e: Error & { details: { term: string } }) => e.name === 'JobTermsError' && e.details.term === 'programHash')
    await assert.rejects(jobWith(recipe, tokens, null, { posted: weights, fetched: empty }),
      (e: Error & { details: { term: string } }) => e.name === 'JobTermsError' && e.details.term === 'base')
    const wider = { ...recipe, model: { ...recipe.model, dModel: recipe.model.dModel * 2 } }
    await assert.rejects(jobWith(wider, tokens, null, { posted: initParams(wider.model, 7), fetched: honest }),
      (e: Error & { details: { term: string } }) => e.details.term === 'base')
  })
})
