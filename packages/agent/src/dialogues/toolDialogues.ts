import { seededRandom } from '@commons/store'
import { commonsTools } from '../tools/index.ts'
import type { Dialogue } from './renderDialogue.ts'
import { BLIND_HELD_OUT, SEALED_HELD_OUT } from './blindHeldOut.ts'
import { AGENTS, DATASETS, FACTS, FILES, LEXICON, TEMPLATES, TOPICS, WORDS, type Slots, type Template } from './toolTemplates.ts'
import { EXTRA_TRAIN, EXTRA_VALIDATION } from './morePhrasings.ts'

/**
 * Tool-use dialogues for training a Commons agent model, drawn from the templates of
 * toolTemplates.ts: a question, the call it should make, its result and a short answer.
 * Each tool keeps some phrasings out of training: validation ones, on which the choices
 * of data and recipe are made, and held-out ones, which measure the final model on
 * questions it has never seen worded that way.
 */

/** How people also start a question; training questions sometimes get one, and lose their capital or final stop, so wording details matter less. */
const CONSONANTS = [...'bcdfghjklmnprstvwz']
const VOWELS = [...'aeiou']

const OPENERS = ['Please, ', 'Hi! ', 'Quick question: ', 'Can you tell me: ', 'Hey, ', 'I need this: ', 'Could you tell me: ', 'I wonder: ', 'One thing: ', 'OK, ',
  'Hello. ', 'Good morning! ', 'So, ', 'Right, ', 'Hmm, ', 'Agent, ', 'Sorry to bother you, ', 'If you can, ', 'When you have a moment: ', 'Next: ', 'Also, ', 'Well, ']

/** How people also end one: thanks, a please, a reason. */
const CLOSERS = [' Thanks!', ' Thank you.', ' Please.', ' Cheers.', ' I need it for a report.', ' Thanks in advance.', ' Quickly, please.']

/** A tool's phrasings: the template's and morePhrasings.ts's. */
const trainPhrasings = (t: Template): readonly string[] => [...t.train, ...(EXTRA_TRAIN[t.tool] ?? [])]
const validationPhrasings = (t: Template): readonly string[] => [...t.validation, ...(EXTRA_VALIDATION[t.tool] ?? [])]

const fill = (phrase: string, s: Slots): string => phrase.replace(/\{(\w+)\}/g, (_, k: keyof Slots) => String(s[k]))

/** The call's arguments in the tool's schema order, every property present (null when left out), as the grammar writes them. */
function fullArgs (tool: string, args: Record<string, unknown>): Record<string, unknown> {
  const schema = commonsTools.find(t => t.name === tool)
  if (schema === undefined) throw new Error(`template for unknown tool ${tool}`)
  return Object.fromEntries(Object.keys(schema.input).map(k => [k, args[k] ?? null]))
}

export interface ToolDialogueSets {
  train: Dialogue[]
  /** Phrasings never used in train, for choosing data, recipe and length. */
  validation: Dialogue[]
  /** Phrasings never used in train nor looked at while choosing: the final measure. */
  heldOut: Dialogue[]
}

/**
 * `perTemplate` training dialogues per tool, `validationPerTemplate` validation ones and
 * `heldOutPerTemplate` held-out ones, drawn from `seed`; `unknownWords` is the share of
 * training questions given a made-up word.
 */
export function toolDialogues (options: { seed?: number, perTemplate?: number, heldOutPerTemplate?: number, validationPerTemplate?: number, unknownWords?: number } = {}): ToolDialogueSets {
  // The same seed gives the same dataset on every machine.
  const next = seededRandom(options.seed ?? 1)
  const draw = questionDrawer(next, options.unknownWords ?? 0)
  const train: Dialogue[] = []
  const validation: Dialogue[] = []
  const heldOut: Dialogue[] = []
  // Held-out questions first, then validation ones: they depend on the seed alone, not on how much training data is drawn.
  for (const template of TEMPLATES) for (let i = 0; i < (options.heldOutPerTemplate ?? 5); i++) heldOut.push(draw(template, template.heldOut, false))
  for (const template of TEMPLATES) for (let i = 0; i < (options.validationPerTemplate ?? 5); i++) validation.push(draw(template, validationPhrasings(template), false))
  for (const template of TEMPLATES) for (let i = 0; i < (options.perTemplate ?? 40); i++) train.push(draw(template, trainPhrasings(template), true))
  // Interleaved, so a window of the corpus holds several tools.
  for (let i = train.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[train[i], train[j]] = [train[j], train[i]]
  }
  return { train, validation, heldOut }
}

/**
 * Draws dialogues from phrasings with `next`: slots and lexicon words drawn anew each time;
 * `varied` ones (training) may get an opener, lose their final mark, or get a made-up word
 * (`unknownShare` of them). The order of draws is part of the dataset: keep it.
 */
function questionDrawer (next: () => number, unknownShare: number): (template: Template, phrases: readonly string[], varied: boolean) => Dialogue {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]
  const tools = commonsTools.map(t => t.name)
  // A quarter of training questions get an opener, a quarter lose their final stop or mark.
  const vary = (question: string): string => {
    const r = next()
    if (r < 0.25) return pick(OPENERS) + question[0].toLowerCase() + question.slice(1)
    if (r < 0.45) return question.replace(/[.?]$/, '')
    if (r < 0.55) return question + pick(CLOSERS)
    if (r < 0.6) return question[0].toLowerCase() + question.slice(1).replace(/[.?]$/, '')
    return question
  }
  // A made-up word: to the model, like any word it was never trained on (drawn again when it is a word of the phrasings).
  const known = knownWords()
  const madeUp = (): string => {
    for (;;) {
      const word = Array.from({ length: 3 + Math.floor(next() * 6) }, (_, i) => pick(i % 2 === 0 ? CONSONANTS : VOWELS)).join('')
      if (!known.has(word)) return word
    }
  }
  // Some phrasings get one of their words (never a slot) replaced by a made-up one, or a
  // made-up word put in: the model learns to choose from the words it knows, as it must
  // when a question is worded with words it has not seen.
  const unknownWords = (phrase: string): string => {
    if (unknownShare === 0 || next() >= unknownShare) return phrase
    const words = phrase.split(' ')
    const plain = words.map((w, i) => w.includes('{') ? -1 : i).filter(i => i >= 0)
    if (next() < 0.5 && plain.length > 1) {
      const i = pick(plain)
      words[i] = madeUp() + (/[.?,:!]$/.exec(words[i])?.[0] ?? '')
    } else {
      words.splice(1 + Math.floor(next() * words.length), 0, madeUp())
    }
    return words.join(' ')
  }
  return (template: Template, phrases: readonly string[], varied: boolean): Dialogue => {
    const s: Slots = {
      dataset: pick(DATASETS), file: pick(FILES), word: pick(WORDS), id: Math.floor(next() * 20), fact: pick(FACTS), topic: pick(TOPICS), agent: pick(AGENTS),
      price: (2500 + Math.floor(next() * 100_000) / 100).toFixed(2)
    }
    // The general vocabulary's words are drawn anew for each question.
    const phrase = pick(phrases).replace(/\[(\w+)\]/g, (_, k: string) => pick(lexiconWords(k)))
    const question = fill(varied ? unknownWords(phrase) : phrase, s)
    return { tools, question: varied ? vary(question) : question, call: { name: template.tool, params: fullArgs(template.tool, template.args(s, phrase)) }, result: template.result(s), answer: template.answer(s) }
  }
}

/**
 * The questions of a blind held-out set (blindHeldOut.ts: BLIND_HELD_OUT by default, or
 * SEALED_HELD_OUT): each phrasing `perPhrasing` times with slots drawn from their own
 * seed, so they never change the other sets.
 */
export function blindDialogues (options: { set?: Record<string, readonly string[]>, seed?: number, perPhrasing?: number } = {}): Dialogue[] {
  const set = options.set ?? BLIND_HELD_OUT
  const draw = questionDrawer(seededRandom(options.seed ?? 1), 0)
  return TEMPLATES.flatMap(template => (set[template.tool] ?? []).flatMap(phrase =>
    Array.from({ length: options.perPhrasing ?? 2 }, () => draw(template, [phrase], false))))
}

/** The sealed set as it was scored (its own seed, each phrasing twice). */
export const sealedDialogues = (): Dialogue[] => blindDialogues({ set: SEALED_HELD_OUT, seed: 3 })

/** Every word of the training phrasings and the lexicon, lower case: what a made-up word must not be. */
const knownWords = (): Set<string> => new Set([...TEMPLATES.flatMap(trainPhrasings), ...Object.values(LEXICON).flat()].join(' ').toLowerCase().split(/[^a-z]+/))

function lexiconWords (key: string): readonly string[] {
  const words = LEXICON[key]
  if (words === undefined) throw new Error(`a template names [${key}], which the lexicon does not have`)
  return words
}

/** Every wording a training phrasing stands for: each [word] replaced by each of its lexicon's words. */
export function expandPhrasing (phrase: string): string[] {
  const at = /\[(\w+)\]/.exec(phrase)
  if (at === null) return [phrase]
  return lexiconWords(at[1]).flatMap(word => expandPhrasing(phrase.slice(0, at.index) + word + phrase.slice(at.index + at[0].length)))
}

/** The templates' phrasings, for checking that held-out and validation ones never appear in training. */
export const templatePhrasings = (): Array<{ tool: string, train: readonly string[], validation: readonly string[], heldOut: readonly string[] }> => TEMPLATES.map(t => ({ tool: t.tool, train: trainPhrasings(t), validation: validationPhrasings(t), heldOut: t.heldOut }))
