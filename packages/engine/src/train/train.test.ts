import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generate, openBackend, parameterCount, parseRecipe, readRecipe, replay, train, type Backend, type Recipe } from '../index.ts'

const repo = fileURLToPath(new URL('../../../../', import.meta.url))
const corpus = Int32Array.from(await readFile(join(repo, 'packages/engine/fixtures/corpus.txt')))
let root: string
// The fast backend: backend.test.ts shows it gives the reference's bits.
let backend: Backend
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-train-'))
  backend = openBackend('wasm', 2)
})
after(async () => {
  await backend.close()
  await rm(root, { recursive: true, force: true })
})

/** The tiny recipe cut to a few steps with frequent checkpoints. */
async function quick (steps: number, interval: number): Promise<Recipe> {
  const tiny = await readRecipe(join(repo, 'recipes/tiny.json'))
  return { ...tiny, steps, checkpointInterval: interval }
}

describe('training runs', () => {
  it('ships recipes of the sizes the docs give', async () => {
    const small = await readRecipe(join(repo, 'recipes/small.json'))
    assert.equal(parameterCount(small.model), 857_216)
    assert.ok(parameterCount((await readRecipe(join(repo, 'recipes/tiny.json'))).model) > 10_000)
  })

  it('is deterministic, and a resumed run ends at the same root', async () => {
    const recipe = await quick(12, 4)
    const a = await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: join(root, 'a') })
    const b = await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: join(root, 'b') })
    assert.equal(a.finalRoot, b.finalRoot)
    assert.equal(a.transcriptRoot, b.transcriptRoot)
    assert.equal(a.records.length, 13, 'S_0 .. S_12')

    const stopped = await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: join(root, 'c'), stopAfter: 6 })
    assert.equal(stopped.steps, 6)
    const resumed = await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: join(root, 'c'), resume: true })
    assert.equal(resumed.finalRoot, a.finalRoot)
    assert.equal(resumed.transcriptRoot, a.transcriptRoot)

    const check = await replay(backend.ctx, join(root, 'a'), corpus, { from: 5, steps: 4 })
    assert.deepEqual([check.from, check.checked, check.firstMismatch], [4, 5, null])
  })

  it('trains the MLP model too, deterministically', async () => {
    const tiny = await readRecipe(join(repo, 'recipes/tiny.json'))
    const recipe = parseRecipe({
      ...tiny,
      name: 'mlp',
      model: { kind: 'mlp', vocab: 256, context: 8, dModel: 16, hidden: 64, layers: 2 },
      steps: 40,
      checkpointInterval: 20
    })
    const a = await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: join(root, 'mlp-a') })
    const b = await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: join(root, 'mlp-b') })
    assert.equal(a.finalRoot, b.finalRoot)
    const first = a.losses.slice(0, 5).reduce((x, y) => x + y, 0) / 5
    const last = a.losses.slice(-5).reduce((x, y) => x + y, 0) / 5
    assert.ok(first > 5 && last < first - 1, `MLP loss ${first} -> ${last}`)
    const { tokens } = await generate(backend.ctx, join(root, 'mlp-a'), 'The ', { tokens: 5 })
    assert.equal(tokens.length, 5)
  })

  it('replay reports the first step whose state differs', async () => {
    const recipe = await quick(6, 3)
    const dir = join(root, 'tampered')
    await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: dir })
    const lines = (await readFile(join(dir, 'transcript.jsonl'), 'utf8')).trim().split('\n').map(l => JSON.parse(l) as { step: number, state: string })
    lines[4].state = '0x' + 'ab'.repeat(32)
    await writeFile(join(dir, 'transcript.jsonl'), lines.map(l => JSON.stringify(l)).join('\n') + '\n')
    const result = await replay(backend.ctx, dir, corpus)
    assert.equal(result.firstMismatch?.step, 4)
    assert.equal(result.firstMismatch?.kind, 'state')
    assert.equal(result.firstMismatch?.disputeStep, 3)
  })

  it('replays a run shipped without checkpoints from the S_0 its seed fixes, and catches a run that did not start there', async () => {
    const recipe = await quick(4, 2)
    const dir = join(root, 'no-checkpoints')
    await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: dir })
    await rm(join(dir, 'checkpoints'), { recursive: true })
    const result = await replay(backend.ctx, dir, corpus, { steps: 2 })
    assert.deepEqual([result.from, result.checked, result.firstMismatch], [0, 3, null])
    // The attack: weights that were not the seed's initialisation, passed off as a run from scratch.
    const other = join(root, 'other-start')
    await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: other, fault: { kind: 'init', slot: 0, element: 3 } })
    await rm(join(other, 'checkpoints'), { recursive: true })
    const caught = await replay(backend.ctx, other, corpus, { steps: 2 })
    assert.deepEqual([caught.firstMismatch?.step, caught.firstMismatch?.kind], [0, 'state'])
  })

  it('replay reports a loss the transcript lies about while the states agree', async () => {
    const recipe = await quick(6, 3)
    const dir = join(root, 'loss-lie')
    await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: dir, fault: { kind: 'loss', step: 2 } })
    const result = await replay(backend.ctx, dir, corpus)
    assert.equal(result.firstMismatch?.kind, 'loss')
    assert.equal(result.firstMismatch?.step, 2)
    assert.equal(result.firstMismatch?.disputeStep, 2)
    assert.notEqual(result.firstMismatch?.expected, result.firstMismatch?.actual)
  })

  it('replay reports a lie about the last record\'s loss (an evaluation of S_T)', async () => {
    const recipe = await quick(6, 3)
    const dir = join(root, 'last-loss-lie')
    await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: dir, fault: { kind: 'loss', step: recipe.steps } })
    const result = await replay(backend.ctx, dir, corpus)
    assert.deepEqual([result.firstMismatch?.kind, result.firstMismatch?.step, result.firstMismatch?.disputeStep], ['loss', recipe.steps, recipe.steps])
    const honest = join(root, 'last-loss-honest')
    await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: honest })
    assert.equal((await replay(backend.ctx, honest, corpus)).firstMismatch, null, 'an honest last loss agrees')
  })

  it('learns the text corpus: loss falls far below ln 256 and generation shows it', async () => {
    const recipe = await readRecipe(join(repo, 'recipes/tiny.json'))
    const dir = join(root, 'learn')
    const result = await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: dir })
    const last = result.losses.slice(-10).reduce((a, b) => a + b, 0) / 10
    assert.ok(result.losses[0] > 5.3 && result.losses[0] < 5.8, `starts near ln 256: ${result.losses[0]}`)
    assert.ok(last < 1.5, `ends at ${last}`)
    const { text, tokens } = await generate(backend.ctx, dir, 'The ', { tokens: 80 })
    // 80 tokens pass the 32-token context: the cache, then the sliding window, give the recompute's tokens.
    assert.deepEqual((await generate(backend.ctx, dir, 'The ', { tokens: 80, recompute: true })).tokens, tokens)
    const words = new Set((await readFile(join(repo, 'packages/engine/fixtures/corpus.txt'), 'utf8')).split(/\W+/).filter(w => w.length >= 3))
    const produced = text.split(/\W+/).filter(w => w.length >= 3)
    assert.ok(produced.filter(w => words.has(w)).length >= 3, `generation shows the corpus: ${JSON.stringify(text)}`)
    const sampled = await generate(backend.ctx, dir, 'The ', { tokens: 40, seed: 9, temperature: 0.8 })
    assert.deepEqual(sampled.tokens, (await generate(backend.ctx, dir, 'The ', { tokens: 40, seed: 9, temperature: 0.8 })).tokens, 'a seed gives the same text')
    assert.deepEqual(sampled.tokens, (await generate(backend.ctx, dir, 'The ', { tokens: 40, seed: 9, temperature: 0.8, recompute: true })).tokens)
  })
})

describe('training refuses bad input and overwrites nothing', () => {
  it('bad recipes are named', async () => {
    const good = JSON.parse(await readFile(join(repo, 'recipes/tiny.json'), 'utf8'))
    for (const bad of [{ ...good, steps: 0 }, { ...good, model: { ...good.model, heads: 3 } }, { ...good, tokenizer: 'bpe' }, { ...good, model: { ...good.model, vocab: 100 } }]) {
      assert.throws(() => parseRecipe(bad), { name: 'InvalidRecipeError' })
    }
    // Dot products the chain could not check element by element (> MAX_INPUTS / 2 terms) are refused up front.
    const bpe = 'bafkreih7bspixflkppz5ddxrnryoah7p2cijulmwlttfj6wh22cnhzwxgy'
    for (const [bad, path] of [[{ ...good, tokenizer: bpe, model: { ...good.model, vocab: 4096 } }, 'model.vocab'], [{ ...good, batchSize: 128 }, 'batchSize'], [{ ...good, model: { ...good.model, hidden: 3000 } }, 'model.hidden']] as const) {
      assert.throws(() => parseRecipe(bad), (e: Error & { details: { problems: string[] } }) => e.name === 'InvalidRecipeError' && e.details.problems.some(p => p.startsWith(`${path}: a dot product`)))
    }
    assert.equal(parseRecipe({ ...good, tokenizer: bpe, model: { ...good.model, vocab: 2048 } }).model.vocab, 2048)
    await writeFile(join(root, 'broken.json'), '{ "name": ')
    await assert.rejects(readRecipe(join(root, 'broken.json')), { name: 'InvalidRecipeError' })
    await assert.rejects(readRecipe(join(root, 'missing.json')), { name: 'InvalidRecipeError' })
  })

  it('a non-empty output, too little data, and resuming on other data', async () => {
    const recipe = await quick(3, 3)
    const dir = join(root, 'guarded')
    await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: dir })
    const before = await readFile(join(dir, 'model.safetensors'))
    await assert.rejects(train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: dir }), { name: 'RunDirError' })
    assert.deepEqual(await readFile(join(dir, 'model.safetensors')), before)
    await assert.rejects(train(backend.ctx, { recipe, tokens: corpus.subarray(0, 10), data: { source: 'x' }, out: join(root, 'short') }), { name: 'ShapeError' })
    await assert.rejects(train(backend.ctx, { recipe, tokens: corpus.subarray(100), data: { source: 'x' }, out: dir, resume: true }), { name: 'DataMismatchError' })
  })

  it('a corrupted checkpoint is detected on resume and replay', async () => {
    const recipe = await quick(8, 4)
    const dir = join(root, 'corrupt')
    await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: dir, stopAfter: 4 })
    const path = join(dir, 'checkpoints', 'step-0000004.safetensors')
    const bytes = await readFile(path)
    bytes[bytes.length - 10] ^= 0x40
    await writeFile(path, bytes)
    await assert.rejects(train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: dir, resume: true }), { name: 'CorruptCheckpointError' })
    await assert.rejects(replay(backend.ctx, dir, corpus, { from: 4 }), { name: 'CorruptCheckpointError' })
    await writeFile(path, bytes.subarray(0, 100))
    await assert.rejects(replay(backend.ctx, dir, corpus, { from: 4 }), { name: 'CorruptCheckpointError' })
    assert.equal((await stat(path)).size, 100, 'the damaged file is left for inspection, not overwritten')
    assert.ok((await readdir(join(dir, 'checkpoints'))).includes('step-0000000.safetensors'))
  })
})

describe('transcript records', () => {
  it('round-trip through transcript.jsonl with a diverged loss (NaN, infinities) and hash the same', async () => {
    const { formatRecord, parseRecord } = await import('../index.ts')
    const { recordHash } = await import('@commons/protocol')
    const state = `0x${'ab'.repeat(32)}` as const
    for (const loss of [NaN, Infinity, -Infinity, 2.5, -0]) {
      const line = formatRecord({ step: 3, state, loss })
      const back = parseRecord(line)
      assert.equal(line.endsWith('\n'), true)
      assert.equal(Object.is(back.loss, loss) || (Number.isNaN(loss) && Number.isNaN(back.loss)), true, `loss ${loss}`)
      const bytes = Buffer.from(state.slice(2), 'hex')
      assert.deepEqual(recordHash(bytes, back.loss), recordHash(bytes, loss))
    }
  })
})

describe('a torn transcript', () => {
  it('drops a last record a crash cut short, and resumes to the same root', async () => {
    const recipe = await quick(8, 4)
    const whole = await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: join(root, 'torn-whole') })
    const dir = join(root, 'torn')
    await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: dir, stopAfter: 6 })
    const path = join(dir, 'transcript.jsonl')
    await writeFile(path, (await readFile(path, 'utf8')) + '{"step":6,"sta')
    const resumed = await train(backend.ctx, { recipe, tokens: corpus, data: { source: 'corpus' }, out: dir, resume: true })
    assert.equal(resumed.transcriptRoot, whole.transcriptRoot)
  })
})
