import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openBackend, parseRecipe, readRecipe, replay, tokensRootOf, train, type Backend, type Recipe } from '@commons/engine'
import { hexBytes, OPCODE, proveWindowElements, rootFromProof, toHex, WINDOW_PIECE_HEIGHT, type RangeProof } from '@commons/protocol'
import { commons } from './testing.ts'
import { commitVersion, generateRows, initDataset, openStore, openTokenStream, rowsToBytes, tokenizeVersion, type Store } from '@commons/store'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
let root: string
let store: Store
let version: string
let backend: Backend
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-train-stream-'))
  store = await openStore(join(root, 'home'))
  const data = join(root, 'data')
  await mkdir(data)
  await writeFile(join(data, 'a.jsonl'), rowsToBytes(generateRows(200_000, 7)))
  await writeFile(join(data, 'b.txt'), rowsToBytes(generateRows(90_000, 8)))
  await initDataset(store, 'd')
  version = (await commitVersion(store, { name: 'd', path: data, message: 'data', author: 'a', time: 0 })).cid.toString()
  backend = openBackend('wasm', 2)
})
after(async () => {
  await backend.close()
  await store.close()
  await rm(root, { recursive: true, force: true })
})

async function tiny (steps: number): Promise<Recipe> {
  return { ...await readRecipe(join(repo, 'recipes/tiny.json')), steps, checkpointInterval: 3 }
}

test('a stored token stream is the version\'s tokens: same length, root, range and every window', async () => {
  const { tokens } = await tokenizeVersion(store, version, 'byte')
  const stream = await openTokenStream(store, version, 'byte')
  try {
    assert.equal(stream.length, tokens.length)
    assert.equal(stream.tokensRoot, tokensRootOf(tokens))
    assert.equal(stream.min, tokens.reduce((a, b) => Math.min(a, b)))
    assert.equal(stream.max, tokens.reduce((a, b) => Math.max(a, b)))
    for (const [begin, end] of [[0, 33], [1000, 1001], [tokens.length - 40, tokens.length], [123_456, 160_000]]) {
      assert.deepEqual(stream.subarray(begin, end), tokens.subarray(begin, end))
    }
  } finally {
    stream.close()
  }
})

test('training and replay from the stored stream give the in-memory run bit for bit (transformer and MLP)', async () => {
  const { tokens } = await tokenizeVersion(store, version, 'byte')
  const mlp = parseRecipe({ ...await tiny(7), name: 'mlp', model: { kind: 'mlp', vocab: 256, context: 8, dModel: 16, hidden: 64, layers: 2 } })
  for (const recipe of [await tiny(7), mlp]) {
    const stream = await openTokenStream(store, version, 'byte')
    try {
      const inMemory = await train(backend.ctx, { recipe, tokens, data: { source: version }, out: join(root, `${recipe.name}-array`) })
      const streamed = await train(backend.ctx, { recipe, tokens: stream, data: { source: version }, out: join(root, `${recipe.name}-stream`) })
      assert.equal(streamed.finalRoot, inMemory.finalRoot)
      assert.equal(streamed.transcriptRoot, inMemory.transcriptRoot)
      assert.deepEqual(streamed.losses, inMemory.losses)
      const replayed = await replay(backend.ctx, join(root, `${recipe.name}-array`), stream)
      assert.equal(replayed.firstMismatch, null)
      assert.equal(replayed.checked, recipe.steps + 1)
    } finally {
      stream.close()
    }
  }
})

test('the stream is written once per version and tokenizer, and written again if its file is cut short', async () => {
  const first = await openTokenStream(store, version, 'byte')
  first.close()
  const written = (await stat(first.path)).mtimeMs
  const again = await openTokenStream(store, version, 'byte')
  again.close()
  assert.equal((await stat(again.path)).mtimeMs, written)
  await truncate(first.path, 100)
  const rewritten = await openTokenStream(store, version, 'byte')
  try {
    // The byte tokenizer's stream is one byte a token (a BPE's, four).
    assert.equal((await stat(rewritten.path)).size, rewritten.length)
    assert.equal(rewritten.tokensRoot, first.tokensRoot)
  } finally {
    rewritten.close()
  }
})

test('streams opened at once in one process share one write (a node\'s trainer and validator on one dataset)', async () => {
  const { tokens } = await tokenizeVersion(store, version, 'byte')
  const first = await openTokenStream(store, version, 'byte')
  await rm(first.path)
  first.close()
  const streams = await Promise.all([1, 2, 3].map(async () => openTokenStream(store, version, 'byte')))
  try {
    for (const stream of streams) {
      assert.equal(stream.tokensRoot, tokensRootOf(tokens))
      assert.deepEqual(stream.subarray(tokens.length - 1000, tokens.length), tokens.subarray(tokens.length - 1000))
    }
    assert.equal((await stat(streams[0].path)).size, tokens.length)
  } finally {
    for (const stream of streams) stream.close()
  }
})

test('a WINDOW opening over a stored stream proves against its root from its own piece (the piece nodes kept beside it), or from the whole stream without them', async () => {
  const piece = 8 * 2 ** WINDOW_PIECE_HEIGHT
  const dir = join(root, 'pieces')
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'rows.jsonl'), rowsToBytes(generateRows(3.3 * piece, 11)))
  await initDataset(store, 'pieces')
  const pieces = (await commitVersion(store, { name: 'pieces', path: dir, message: 'three pieces and some' })).cid.toString()
  const stream = await openTokenStream(store, pieces, 'byte')
  try {
    assert.ok(stream.length > 3 * piece, 'the version spans several pieces')
    for (const keep of [true, false]) {
      for (const element of [5, piece + 77, stream.length - 3]) {
        let read = 0
        const windows = {
          length: stream.length,
          subarray: (b: number, e: number) => { read += e - b; return stream.subarray(b, e) },
          ...(keep ? { pieceNode: (i: number) => stream.pieceNode(i) } : {})
        }
        const proof = proveWindowElements(windows, element)
        assert.equal(toHex(rootFromProof(proof)), stream.tokensRoot, `element ${element}`)
        // At most the piece of the element and the last, partial piece (no node is kept for it).
        if (keep) assert.ok(read <= piece + (stream.length % piece) + 8, `read ${read} tokens for element ${element}`)
        else assert.ok(read >= stream.length - piece, 'without the kept nodes the stream is hashed')
      }
    }
  } finally {
    stream.close()
  }
})

test('commons trace of the WINDOW op on a version (its stored stream): the tokens input proves against the run\'s tokens root', { timeout: 120_000 }, async () => {
  const recipe = join(root, 'trace-recipe.json')
  await writeFile(recipe, JSON.stringify(await tiny(2)))
  const out = join(root, 'trace-run')
  const trained = await commons(['train', recipe, '--data', version, '--out', out, '--json', '--home', store.home])
  assert.equal(trained.code, 0, trained.stderr)
  const run = await commons(['trace', out, '--step', '1', '--op', '0', '--element', '5', '--json', '--home', store.home])
  assert.equal(run.code, 0, run.stderr)
  const traced = JSON.parse(run.stdout) as { code: number, value: string, recomputed: string, inputs: Array<{ kind: string, root: `0x${string}`, proof: (Omit<RangeProof, 'siblings'> & { siblings: Array<`0x${string}`> }) | null }> }
  assert.equal(traced.code, OPCODE.WINDOW)
  assert.equal(traced.value, traced.recomputed)
  const tokens = traced.inputs.find(input => input.kind === 'tokens')
  const stream = await openTokenStream(store, version, 'byte')
  stream.close()
  assert.equal(tokens?.root, stream.tokensRoot)
  const proof = tokens?.proof as NonNullable<typeof traced.inputs[number]['proof']>
  assert.equal(toHex(rootFromProof({ ...proof, siblings: proof.siblings.map(hexBytes) })), stream.tokensRoot)
})

test('a stream with tokens outside the model\'s vocabulary is refused before training', async () => {
  const stream = await openTokenStream(store, version, 'byte')
  try {
    // Not through parseRecipe, which ties the byte tokenizer to 256 words: train's own check is under test.
    const recipe = await tiny(2)
    const small = { ...recipe, model: { ...recipe.model, vocab: 64 } }
    await assert.rejects(train(backend.ctx, { recipe: small, tokens: stream, data: { source: version }, out: join(root, 'small-vocab') }), { name: 'DataMismatchError' })
    stream.close()
    assert.throws(() => stream.subarray(0, 1), { name: 'TokenStreamError' })
  } finally {
    stream.close()
  }
})
