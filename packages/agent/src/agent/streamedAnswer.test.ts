import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseRecipe, referenceContext, train, type Recipe } from '@commons/engine'
import { exportGguf } from '@commons/models'
import { openAgent } from './openAgent.ts'

const REPO = join(import.meta.dirname, '..', '..', '..', '..')

/**
 * What an agent answers is what it streamed. llama.cpp detokenizes a GPT-2-style
 * vocabulary's whole answer with clean-up (" ," read as ","), the chunks one token at a
 * time without it; a model taught to write " ," tells the two apart.
 */

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-streamed-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

describe('an agent\'s answer', () => {
  it('is the text it streamed, not the session\'s cleaned-up copy', { timeout: 120_000 }, async () => {
    const tiny = JSON.parse(await readFile(join(REPO, 'recipes', 'tiny.json'), 'utf8')) as Recipe
    const recipe = parseRecipe({ ...tiny, steps: 30, checkpointInterval: 30 })
    await train(referenceContext(), { recipe, tokens: Int32Array.from(Buffer.from('a . b , c ! d ? '.repeat(80))), data: { source: 'test' }, out: join(root, 'run') })
    const { path } = await exportGguf({ run: join(root, 'run'), out: join(root, 'm.gguf') })
    const agent = await openAgent({ modelPath: path, tools: [], gpu: false, maxTokens: 60 })
    try {
      let streamed = ''
      const answer = await agent.ask('a . b', { onText: t => { streamed += t } })
      assert.match(streamed, / ,/, 'the model writes the spaces a clean-up would drop')
      assert.equal(answer.answer, streamed)
    } finally {
      await agent.close()
    }
  })
})
