import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeSafetensors, initialState, paramSpecs, stateRootOf, type Recipe, type Tensor } from '@commons/engine'
import { toHex } from '@commons/protocol'
import { commons, errorName, REPO } from './testing.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-model-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

describe('commons tokenizer train', () => {
  it('learns a BPE from a file deterministically, writes tokenizer.json and stores it by CID', async () => {
    const h = ['--home', join(root, 'home')]
    const runs = await Promise.all(['a', 'b'].map(async name => commons(['tokenizer', 'train', join(REPO, 'README.md'), '--vocab', '300', '--out', join(root, `${name}.json`), '--json', ...h])))
    for (const run of runs) assert.equal(run.code, 0, run.stderr)
    const [a, b] = runs.map(run => JSON.parse(run.stdout) as { cid: string, vocab: number, bytes: number, tokens: number })
    assert.equal(a.cid, b.cid, 'the same data and vocabulary give the same tokenizer')
    assert.match(a.cid, /^bafkrei/)
    assert.equal(a.vocab, 300)
    assert.ok(a.tokens < a.bytes)
    const json = JSON.parse(await readFile(join(root, 'a.json'), 'utf8')) as { model: { type: string, merges: string[] } }
    assert.equal(json.model.type, 'BPE')
    assert.equal(json.model.merges.length, 44)
  })
})

describe('a BPE from the command line', () => {
  it('trains a tokenizer, a recipe that names it by CID, generates and exports with it', async () => {
    const h = ['--home', join(root, 'home-bpe')]
    const tok = await commons(['tokenizer', 'train', join(REPO, 'packages/engine/fixtures/corpus.txt'), '--vocab', '300', '--out', join(root, 'bpe.json'), '--json', ...h])
    assert.equal(tok.code, 0, tok.stderr)
    const { cid, vocab } = JSON.parse(tok.stdout) as { cid: string, vocab: number }
    const tiny = JSON.parse(await readFile(join(REPO, 'recipes', 'tiny.json'), 'utf8')) as { model: Record<string, unknown> }
    const recipe = join(root, 'bpe-recipe.json')
    await writeFile(recipe, JSON.stringify({ ...tiny, tokenizer: cid, steps: 3, checkpointInterval: 3, model: { ...tiny.model, vocab } }))
    const run = join(root, 'bpe-run')
    const trained = await commons(['train', recipe, '--data', join(REPO, 'packages/engine/fixtures/corpus.txt'), '--out', run, '--json', ...h])
    assert.equal(trained.code, 0, trained.stderr)
    assert.equal((await readFile(join(run, 'tokenizer.json'))).equals(await readFile(join(root, 'bpe.json'))), true, 'the run keeps its tokenizer')
    const replayed = await commons(['replay', run, '--json', ...h])
    assert.equal((JSON.parse(replayed.stdout) as { firstMismatch: unknown }).firstMismatch, null, replayed.stderr)
    const generated = await commons(['generate', run, 'The ', '--tokens', '5', '--json'])
    assert.equal(generated.code, 0, generated.stderr)
    assert.ok((JSON.parse(generated.stdout) as { tokens: number[] }).tokens.every(t => t >= 0 && t < vocab))
    const exported = await commons(['model', 'export', run, '--out', join(root, 'bpe.gguf'), '--json', ...h])
    assert.equal(exported.code, 0, exported.stderr)
    // A recipe whose vocabulary is not its tokenizer's is refused before training.
    await writeFile(recipe, JSON.stringify({ ...tiny, tokenizer: cid, steps: 3, checkpointInterval: 3, model: { ...tiny.model, vocab: vocab + 1 } }))
    const refused = await commons(['train', recipe, '--data', join(REPO, 'packages/engine/fixtures/corpus.txt'), '--out', join(root, 'bpe-bad'), '--json', ...h])
    assert.equal(refused.code, 1)
    assert.equal(errorName(refused), 'InvalidRecipeError')
  })
})

describe('commons model export', () => {
  it('exports a run by directory and by the CID it was published under, as GGUF with a Modelfile', async () => {
    const h = ['--home', join(root, 'home')]
    const recipe = join(root, 'recipe.json')
    const tiny = JSON.parse(await readFile(join(REPO, 'recipes', 'tiny.json'), 'utf8')) as Record<string, unknown>
    await writeFile(recipe, JSON.stringify({ ...tiny, steps: 2, checkpointInterval: 2 }))
    const run = join(root, 'run')
    const trained = await commons(['train', recipe, '--data', join(REPO, 'packages/engine/fixtures/corpus.txt'), '--out', run, '--json', ...h])
    assert.equal(trained.code, 0, trained.stderr)
    const { finalRoot } = JSON.parse(trained.stdout) as { finalRoot: string }

    const byDir = await commons(['model', 'export', run, '--out', join(root, 'a', 'model.gguf'), '--job', '3', '--json', ...h])
    assert.equal(byDir.code, 1, 'the folder of --out must exist')
    assert.equal(errorName(byDir), 'FileAccessError')

    const ok = await commons(['model', 'export', run, '--out', join(root, 'model.gguf'), '--job', '3', '--json', ...h])
    assert.equal(ok.code, 0, ok.stderr)
    const result = JSON.parse(ok.stdout) as { path: string, modelfile: string, tensors: number, bytes: number, provenance: { stateRoot: string, jobId: string } }
    assert.equal(result.provenance.stateRoot, finalRoot)
    assert.equal(result.provenance.jobId, '3')
    assert.equal((await stat(result.path)).size, result.bytes)
    assert.equal((await readFile(result.path)).subarray(0, 4).toString(), 'GGUF')
    assert.match(await readFile(result.modelfile, 'utf8'), /FROM \.\/model\.gguf/)

    assert.equal((await commons(['dataset', 'init', 'runs', ...h])).code, 0)
    const published = await commons(['dataset', 'commit', 'runs', run, '-m', 'run', ...h])
    assert.equal(published.code, 0, published.stderr)
    const byCid = await commons(['model', 'export', published.stdout.trim(), '--out', join(root, 'again.gguf'), '--json', ...h])
    assert.equal(byCid.code, 0, byCid.stderr)
    const plain = await commons(['model', 'export', run, '--out', join(root, 'plain.gguf'), ...h])
    assert.equal(plain.code, 0, plain.stderr)
    assert.match(plain.stdout, /^wrote .*plain\.gguf/)
    assert.ok((await readFile(join(root, 'again.gguf'))).equals(await readFile(join(root, 'plain.gguf'))), 'the same run exports to the same bytes, by CID or by folder')

    const imported = await commons(['model', 'import', result.path, '--out', join(root, 'imported'), '--json', ...h])
    assert.equal(imported.code, 0, imported.stderr)
    assert.equal((JSON.parse(imported.stdout) as { stateRoot: string }).stateRoot, finalRoot)
    const reexported = await commons(['model', 'export', join(root, 'imported'), '--out', join(root, 'reimported.gguf'), ...h])
    assert.equal(reexported.code, 0, reexported.stderr)
    assert.ok((await readFile(join(root, 'reimported.gguf'))).equals(await readFile(result.path)), 'export, import, export: the same file')

    // The import is a fine-tuning recipe whose base is the weights, stored by CID: it trains from them.
    const { base } = JSON.parse(imported.stdout) as { base: string }
    const importedRecipe = JSON.parse(await readFile(join(root, 'imported', 'recipe.json'), 'utf8')) as Recipe
    assert.equal(importedRecipe.base, base)
    const fineTune = join(root, 'fine-tune.json')
    await writeFile(fineTune, JSON.stringify({ ...importedRecipe, steps: 3, checkpointInterval: 3, batchSize: 2 }))
    const tuned = await commons(['train', fineTune, '--data', join(REPO, 'packages/engine/fixtures/corpus.txt'), '--out', join(root, 'tuned'), '--json', ...h])
    assert.equal(tuned.code, 0, tuned.stderr)
    const weights = decodeSafetensors(await readFile(join(root, 'imported', 'model.safetensors')))
    const baseWeights = paramSpecs(importedRecipe.model).map(spec => weights.tensors.get(spec.name) as Tensor)
    const s0 = toHex(stateRootOf(initialState(importedRecipe, baseWeights)))
    const first = JSON.parse((await readFile(join(root, 'tuned', 'transcript.jsonl'), 'utf8')).split('\n')[0]) as { state: string }
    assert.equal(first.state, s0, 'S_0 of the fine-tune is the imported weights with zero moments')
    const replayedTune = await commons(['replay', join(root, 'tuned'), '--json', ...h])
    assert.equal((JSON.parse(replayedTune.stdout) as { firstMismatch: unknown }).firstMismatch, null, replayedTune.stderr)
    const elsewhere = await commons(['train', fineTune, '--data', join(REPO, 'packages/engine/fixtures/corpus.txt'), '--out', join(root, 'tuned-elsewhere'), '--json', '--home', join(root, 'empty-home')])
    assert.equal(elsewhere.code, 1, 'a home without the base weights cannot fine-tune')
    assert.equal(errorName(elsewhere), 'RunDirError')

    const hf = await commons(['model', 'export', run, '--format', 'hf', '--out', join(root, 'hf'), '--json', ...h])
    assert.equal(hf.code, 0, hf.stderr)
    assert.ok((JSON.parse(hf.stdout) as { files: string[] }).files.includes('config.json'))
    assert.equal((JSON.parse(await readFile(join(root, 'hf', 'config.json'), 'utf8')) as { commons: { stateRoot: string } }).commons.stateRoot, finalRoot)
    const fromHf = await commons(['model', 'import', join(root, 'hf'), '--out', join(root, 'hf-imported'), '--json', ...h])
    assert.equal(fromHf.code, 0, fromHf.stderr)
    assert.equal((JSON.parse(fromHf.stdout) as { stateRoot: string }).stateRoot, finalRoot, 'a Hugging Face folder imports too')
    assert.equal((JSON.parse(byCid.stdout) as { provenance: { stateRoot: string } }).provenance.stateRoot, finalRoot)
  })

  it('answers a bad run or option with a named error and exit code 1', async () => {
    const cases: Array<[string[], string]> = [
      [['model', 'export', join(root, 'missing'), '--out', join(root, 'x.gguf')], 'UsageError'],
      [['model', 'export', REPO, '--out', join(root, 'x.gguf')], 'ExportError'],
      [['model', 'export', REPO, '--out', join(root, 'x.gguf'), '--dtype', 'f8'], 'UsageError'],
      [['model', 'export', REPO, '--out', join(root, 'x'), '--format', 'hf', '--dtype', 'f16'], 'UsageError'],
      [['model', 'import', join(REPO, 'README.md'), '--out', join(root, 'y')], 'ImportError'],
      [['model', 'import', REPO, '--out', join(root, 'y')], 'ImportError']
    ]
    for (const [args, name] of cases) {
      const run = await commons([...args, '--json', '--home', join(root, 'home')])
      assert.equal(run.code, 1, args.join(' '))
      assert.equal(errorName(run), name, args.join(' '))
    }
  })
})
