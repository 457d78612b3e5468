import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BUNDLED_AGENT_MODEL } from './bundledModel.ts'
import { SUMMARY_MAX_CHARS, summaryBound, summarizeTurns } from './boundedMemory.ts'
import { Conversations } from './conversations.ts'
import { openAgent } from './openAgent.ts'

/**
 * Bounded memory with the real parts: the GGUF shipped in the repo through node-llama-cpp
 * on a small context, and the conversation in SQLite on a temp dir. As the conversation
 * nears the context size its older turns are replaced by a summary, which is kept and
 * picked up again by an agent that continues the conversation.
 */

const QUESTIONS = ['What is the ETH price now?', 'Which datasets are here?', 'Who else is on the network?', 'Show job 1.', 'List the jobs on the market.', 'price of ETH?', 'Which agents are known?', 'show datasets']

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-memory-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

describe('bounded memory', () => {
  it('a summary keeps to its bound, the newest lines kept', () => {
    const turns = Array.from({ length: 40 }, (_, i) => ({ role: i % 2 === 0 ? 'user' as const : 'model' as const, text: `turn ${i} ${'x'.repeat(50)}`, calls: i % 2 === 1 ? [{ name: 'price', arguments: {} }] : [] }))
    const summary = summarizeTurns(turns, 'user asked: the very first question')
    assert.ok(summary.length <= SUMMARY_MAX_CHARS)
    assert.ok(summary.includes('turn 39'), 'the newest turn is in the summary')
    assert.ok(!summary.includes('the very first question'), 'the oldest line was dropped first')
    assert.match(summary, /called price\(\{\}\)/)
    assert.ok(summarizeTurns(turns, null, summaryBound(512)).length <= 128, 'a small context gets a small summary')
    const longAnswer = [{ role: 'user' as const, text: 'Show job 1.', calls: [] }, { role: 'model' as const, text: 'y'.repeat(300), calls: [{ name: 'job_show', arguments: { id: 1 } }] }]
    const small = summarizeTurns(longAnswer, null, 128)
    assert.ok(small.length <= 128, `${small.length} chars`)
    assert.match(small, /^user asked: Show job 1\.\nagent called job_show/, 'a long answer does not push out the question')
  })

  it('a long conversation stays within the context: older turns become a summary kept in SQLite, and a continued conversation starts from it', { timeout: 300_000 }, async () => {
    const conversations = new Conversations(join(root, 'conversations.sqlite'))
    const contextSize = 512
    const id = conversations.start('agent')
    const saved: Array<{ text: string, turns: number }> = []
    const agent = await openAgent({
      modelPath: BUNDLED_AGENT_MODEL, tools: [], gpu: false, contextSize, maxTokens: 48,
      memory: { onSummary: (s) => { saved.push(s); conversations.saveSummary(id, s) } }
    })
    try {
      for (const question of QUESTIONS) {
        const answer = await agent.ask(question)
        conversations.append(id, { role: 'user', text: question, toolCalls: [] })
        conversations.append(id, { role: 'model', text: answer.answer, toolCalls: answer.toolCalls })
        const state = agent.memory()
        assert.ok(state.contextTokens <= contextSize, `${state.contextTokens} tokens in a context of ${contextSize}`)
      }
      assert.ok(saved.length >= 1, 'the conversation was compacted at least once')
      const last = saved.at(-1)!
      assert.ok(last.turns >= 2 && last.turns % 2 === 0, `the summary stands for whole exchanges (${last.turns} turns)`)
      assert.match(last.text, /user asked: /)
      assert.deepEqual(agent.memory().summary, last.text)
      assert.deepEqual(conversations.summary(id), last, 'the latest summary is in SQLite')
      const resumed = conversations.resume(id)!
      assert.equal(resumed.turns.length, 2 * QUESTIONS.length - last.turns, 'the turns after the summary, word for word')
    } finally {
      await agent.close()
    }

    // Continued: the summary and the turns after it, not the whole conversation.
    const resumed = conversations.resume(id)!
    const again = await openAgent({ modelPath: BUNDLED_AGENT_MODEL, tools: [], gpu: false, contextSize, maxTokens: 48, history: resumed.turns, summary: resumed.summary })
    try {
      assert.equal(again.memory().summary, resumed.summary?.text)
      await again.ask('What is the ETH price now?')
      assert.ok(again.memory().contextTokens <= contextSize)
    } finally {
      await again.close()
      conversations.close()
    }
  })
})
