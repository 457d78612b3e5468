import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tokensRootOf } from '../index.ts'
import { parseRecipe, readRecipe, type Recipe } from '../model/recipe.ts'
import { referenceContext } from '../core/context.ts'
import { train } from './run.ts'
import { fillTemplate, headerTemplate, modelFileTemplate, ModelFileTemplateError } from './modelFile.ts'

const repo = fileURLToPath(new URL('../../../../', import.meta.url))
const tiny = await readRecipe(join(repo, 'recipes/tiny.json'))
const dir = await mkdtemp(join(tmpdir(), 'commons-model-file-'))
after(async () => { await rm(dir, { recursive: true, force: true }) })

// A recipe whose name holds what a marker search would mistake for a root.
const recipe: Recipe = parseRecipe({ ...tiny, name: `tiny 0x${'0'.repeat(64)} "quoted"`, steps: 3, checkpointInterval: 3, model: { ...tiny.model, layers: 1 }, batchSize: 2 })
const tokens = Int32Array.from(Buffer.from('the model file template binds the header a run publishes '.repeat(40)))

async function run (name: string, fault?: { kind: 'header', slot: number }): Promise<{ file: Buffer, finalRoot: string, transcriptRoot: string }> {
  const out = join(dir, name)
  const result = await train(referenceContext(), { recipe, tokens, data: { source: 'test' }, out, ...(fault === undefined ? {} : { fault }) })
  return { file: await readFile(join(out, 'model.safetensors')), ...result }
}

describe('the model file template', () => {
  it('filled with the run\'s roots is the header of the file the run writes, and gives its length', async () => {
    const honest = await run('honest')
    const template = modelFileTemplate(recipe, tokensRootOf(tokens))
    const header = fillTemplate(template, honest.finalRoot, honest.transcriptRoot)
    assert.deepEqual(honest.file.subarray(0, header.length), Buffer.from(header))
    assert.equal(BigInt(honest.file.length), template.length)
    assert.equal(Number(honest.file.readBigUInt64LE(0)) + 8, header.length, 'the template starts with the header length')
  })

  it('does not match a file whose header swaps two parameters\' names, whose weights all sit at their offsets', async () => {
    const honest = await run('honest-2')
    const swapped = await run('swapped', { kind: 'header', slot: 1 })
    const header = fillTemplate(modelFileTemplate(recipe, tokensRootOf(tokens)), swapped.finalRoot, swapped.transcriptRoot)
    assert.equal(swapped.finalRoot, honest.finalRoot, 'the fault touches only the file')
    assert.notDeepEqual(swapped.file.subarray(0, header.length), Buffer.from(header))
    assert.deepEqual(swapped.file.subarray(header.length), honest.file.subarray(header.length), 'every weight at its canonical offset')
  })

  it('binds the tokens root and the recipe', () => {
    const a = modelFileTemplate(recipe, tokensRootOf(tokens))
    const b = modelFileTemplate(recipe, tokensRootOf(tokens.subarray(1)))
    const c = modelFileTemplate({ ...recipe, seed: recipe.seed + 1 }, tokensRootOf(tokens))
    assert.notDeepEqual(Buffer.concat([a.prefix, a.middle, a.suffix]), Buffer.concat([b.prefix, b.middle, b.suffix]))
    assert.notDeepEqual(Buffer.concat([a.prefix, a.middle, a.suffix]), Buffer.concat([c.prefix, c.middle, c.suffix]))
  })

  it('refuses metadata that does not hold both roots, state root first', () => {
    const entries = [{ name: 'w', dtype: 'f32' as const, shape: [2, 2] }]
    assert.throws(() => headerTemplate(entries, (s, t) => ({ transcriptRoot: t, stateRoot: s })), ModelFileTemplateError)
    assert.throws(() => headerTemplate(entries, s => ({ stateRoot: s })), ModelFileTemplateError)
    assert.throws(() => fillTemplate(modelFileTemplate(recipe, tokensRootOf(tokens)), '0x12', '0x34'), ModelFileTemplateError)
  })
})
