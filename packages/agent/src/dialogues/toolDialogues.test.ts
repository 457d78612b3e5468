import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseArguments } from '../callTool.ts'
import { dropNulls } from '../agent/gbnfSchema.ts'
import { commonsTools } from '../tools/index.ts'
import { BpeTokenizer, trainBpe } from '@commons/tokenizer'
import { CommonsChatWrapper } from '../agent/commonsChatWrapper.ts'
import { DIALOGUE_END, renderConversation, renderDialogue } from './renderDialogue.ts'
import { blindDialogues, expandPhrasing, sealedDialogues, templatePhrasings, toolDialogues } from './toolDialogues.ts'
import { BLIND_HELD_OUT, SEALED_HELD_OUT } from './blindHeldOut.ts'
import { LEXICON } from './toolTemplates.ts'

/** Words of a phrasing, lower case, without punctuation: what two wordings are compared by. */
const wordsOf = (phrase: string): string[] => phrase.toLowerCase().split(/\s+/).map(w => w.replace(/[.?,:!]+$/, '')).filter(w => w !== '')

/** Words to insert, delete or replace to turn one wording into the other. */
function wordDistance (a: string[], b: string[]): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) next.push(Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)))
    row = next
  }
  return row[b.length]
}

describe('tool-use dialogues', () => {
  it('are the same for the same seed and differ for another', () => {
    assert.deepEqual(toolDialogues({ seed: 7 }), toolDialogues({ seed: 7 }))
    assert.notDeepEqual(toolDialogues({ seed: 7 }).train, toolDialogues({ seed: 8 }).train)
  })

  it('cover every tool, with arguments its schema accepts, every property present as the grammar writes them', () => {
    const { train, validation, heldOut } = toolDialogues({ seed: 1, perTemplate: 10, heldOutPerTemplate: 3, validationPerTemplate: 3 })
    const blind = [...blindDialogues(), ...sealedDialogues()]
    for (const set of [train, validation, heldOut, blind]) assert.deepEqual(new Set(set.map(d => d.call?.name)), new Set(commonsTools.map(t => t.name)))
    for (const d of [...train, ...validation, ...heldOut, ...blind]) {
      const tool = commonsTools.find(t => t.name === d.call?.name)
      assert.ok(tool !== undefined)
      assert.deepEqual(Object.keys(d.call?.params ?? {}), Object.keys(tool.input), d.question)
      assert.doesNotThrow(() => parseArguments(tool, dropNulls(d.call?.params)), d.question)
    }
  })

  it('never word a training question in a held-out or validation phrasing', () => {
    const { train, validation, heldOut } = toolDialogues({ seed: 3 })
    const trained = new Set(train.map(d => d.question))
    assert.ok([...validation, ...heldOut].every(d => !trained.has(d.question)))
    for (const t of templatePhrasings()) for (const phrase of [...t.validation, ...t.heldOut]) assert.ok(!t.train.includes(phrase), phrase)
  })

  it('never word a training phrasing, in any of its lexicon\'s wordings, near (a word or two from) a held-out, blind, sealed or validation phrasing of any tool', () => {
    const apart = [...templatePhrasings().flatMap(t => [...t.validation, ...t.heldOut]), ...Object.values(BLIND_HELD_OUT).flat(), ...Object.values(SEALED_HELD_OUT).flat()].map(wordsOf)
    const near: string[] = []
    for (const t of templatePhrasings()) {
      for (const wording of t.train.flatMap(expandPhrasing)) {
        const words = wordsOf(wording)
        // Near: two words of a sentence of seven or more, one of a shorter one (a third of the words at most).
        const close = apart.find(other => wordDistance(words, other) <= Math.min(2, Math.floor((Math.max(words.length, other.length) - 1) / 3)))
        if (close !== undefined) near.push(`${wording} ~ ${close.join(' ')}`)
      }
    }
    assert.deepEqual(near, [])
    assert.equal(wordDistance(wordsOf('Tell me the ETH quote.'), wordsOf('Tell me the latest ETH quote.')), 1, 'the distance counts a word put in')
  })

  it('ask every blind phrasing twice, with its own tool\'s call, the same questions every time', () => {
    for (const [set, dialogues] of [[BLIND_HELD_OUT, blindDialogues()], [SEALED_HELD_OUT, sealedDialogues()]] as const) {
      for (const [tool, phrasings] of Object.entries(set)) assert.equal(dialogues.filter(d => d.call?.name === tool).length, 2 * phrasings.length, tool)
    }
    assert.deepEqual(blindDialogues(), blindDialogues())
  })

  it('keep the held-out questions the same whatever else is drawn, and the validation ones apart from them', () => {
    const a = toolDialogues({ seed: 1, perTemplate: 5, heldOutPerTemplate: 4, validationPerTemplate: 2 })
    const b = toolDialogues({ seed: 1, perTemplate: 50, heldOutPerTemplate: 4, validationPerTemplate: 6, unknownWords: 0.5 })
    assert.deepEqual(a.heldOut, b.heldOut)
    const held = new Set(a.heldOut.map(d => d.question))
    assert.ok(b.validation.every(d => !held.has(d.question)))
  })

  it('put made-up words into a share of training questions, never into a slot nor into held-out questions', () => {
    const plain = toolDialogues({ seed: 5, perTemplate: 30 })
    const varied = toolDialogues({ seed: 5, perTemplate: 30, unknownWords: 1 })
    assert.deepEqual(varied.heldOut, plain.heldOut)
    const words = new Set([...templatePhrasings().flatMap(t => t.train), ...Object.values(LEXICON).flat()].join(' ').split(' ').map(w => w.replace(/[.?,:!]$/, '').toLowerCase()))
    const unknown = (q: string): string[] => q.split(' ').map(w => w.replace(/[.?,:!]$/, '').toLowerCase()).filter(w => /^[a-z]+$/.test(w) && !words.has(w))
    assert.ok(varied.train.every(d => unknown(d.question).length >= 1 || d.question.split(' ').length <= 2), 'every question has a word no phrasing has')
    for (const d of varied.train) {
      const slots = ['name', 'ref', 'dao', 'agent', 'query'].map(k => d.call?.params[k]).filter((v): v is string => typeof v === 'string')
      for (const slot of slots) assert.ok(d.question.includes(slot), `${d.question} keeps ${slot}`)
    }
  })

  it('render in the agent\'s chat format with the call syntax node-llama-cpp parses', () => {
    const text = renderDialogue({ tools: ['price'], question: 'What is the ETH price now?', call: { name: 'price', params: { heartbeat: null } }, result: { price: '3000' }, answer: 'It is 3000.' })
    assert.ok(text.endsWith('### Human\nWhat is the ETH price now?\n\n### Assistant\n||call:price{"heartbeat": null}\n||result: {"price": "3000"}\nIt is 3000.'), text)
    assert.match(text, /^You are the agent of a Commons node\./)
    assert.match(text, /Tools: price\./)
  })

  it('render a conversation with the system prompt and tool list once, then each question and call in turn', () => {
    const { train } = toolDialogues({ seed: 4, perTemplate: 1 })
    const text = renderConversation(train.slice(0, 3))
    assert.equal(text.split('Tools: ').length, 2)
    assert.equal(text.indexOf(renderDialogue(train[0])), 0, 'the first exchange as a dialogue of its own')
    let at = 0
    for (const d of train.slice(0, 3)) {
      at = text.indexOf(`### Human\n${d.question}\n\n### Assistant\n||call:${d.call?.name}{`, at)
      assert.ok(at >= 0, d.question)
    }
  })

  it('end the call prefix, and the prefix with the name, where a BPE splits the text: the tokens node-llama-cpp feeds a model before it writes a tool\'s name or its arguments are the ones it was trained on', () => {
    // A vocabulary as large as the agent model's, so punctuation runs such as `({"` are merged.
    const { train } = toolDialogues({ seed: 2, perTemplate: 20 })
    const bpe = new BpeTokenizer(trainBpe(Buffer.from(train.map(d => renderDialogue(d) + DIALOGUE_END).join('')), 1024))
    const { prefix, paramsPrefix } = new CommonsChatWrapper().settings.functions.call
    assert.equal(typeof prefix, 'string')
    assert.equal(typeof paramsPrefix, 'string')
    for (const d of train.slice(0, 12)) {
      const text = renderDialogue(d)
      const prompt = text.slice(0, text.indexOf('### Assistant\n') + '### Assistant\n'.length)
      const trained = [...bpe.encode(Buffer.from(text))]
      for (const fedText of [prefix as string, `${prefix as string}${d.call?.name ?? ''}${paramsPrefix as string}`]) {
        const fed = [...bpe.encode(Buffer.from(prompt)), ...bpe.encode(Buffer.from(fedText))]
        assert.deepEqual(trained.slice(0, fed.length), fed, `${d.question}: ${fedText}`)
      }
    }
  })
})
