import { seededRandom } from '@commons/store'
import { commonsTools } from '../tools/index.ts'
import type { Dialogue } from './renderDialogue.ts'

/**
 * Templates of tool-use dialogues for training a Commons agent model: per tool, phrasings
 * of a question with slots, the call it should make and a short answer. Each tool keeps
 * some phrasings out of training (`heldOut`), so a benchmark can measure tool choice on
 * questions the model has never seen worded that way.
 */
interface Template {
  tool: string
  train: string[]
  heldOut: string[]
  /** The call's arguments for the drawn slots (absent ones are sent as null). */
  args: (s: Slots) => Record<string, unknown>
  result: (s: Slots) => unknown
  answer: (s: Slots) => string
}

interface Slots { dataset: string, file: string, word: string, id: number, fact: string, topic: string, agent: string, price: string }

const DATASETS = ['corpus', 'poems', 'recipes', 'weather', 'laws', 'birds', 'code-notes', 'tool-dialogues', 'tides', 'songs', 'city-maps', 'medical-faq']
const FILES = ['rows.jsonl', 'data.csv', 'README.md', 'train.txt', 'notes/a.md', 'labels.tsv']
const WORDS = ['heron', 'rain', 'bread', 'tax', 'river', 'march', 'engine', 'vote', 'salt', 'bridge', 'fever', 'harbour']
const FACTS = ['herons nest in March', 'the validator replays three steps', 'v2 of corpus drops duplicate rows', 'the feed heartbeat is an hour',
  'the river floods in spring', 'job 3 used the small recipe', 'bread needs two rises', 'the curator signs every version', 'high tide is at 06:10']
const TOPICS = ['herons', 'the training recipe', 'the price feed', 'dataset licences', 'disputes', 'tides', 'staking', 'the tokenizer', 'bread']
const AGENTS = ['curator', 'trainer-1', 'validator', 'requester', 'harbour', 'alice', 'node-7']

/**
 * Held-out phrasings were written first; the training ones are worded independently
 * (no held-out sentence, nor one differing from it by a word or two), so the held-out
 * score measures questions worded in ways the model never saw.
 */
const TEMPLATES: Template[] = [
  {
    tool: 'price',
    train: ['What is the ETH price now?', 'How much is ETH right now?', 'Give me the current ETH / USD price.', 'Is the ETH price on chain fresh?', 'price of ETH?',
      'What does one ether cost in dollars?', 'ETH/USD?', 'Read the price feed.', 'How many dollars is an ETH worth today?', 'Check the Chainlink feed for ETH.',
      'What\'s the going rate for ETH?', 'Is the feed stale?', 'Current price of ether, please.', 'How is ETH priced today?'],
    heldOut: ['What is ether trading at at the moment?', 'Tell me the latest ETH quote.'],
    args: () => ({}),
    result: s => ({ price: s.price, verdict: 'fresh', round: '42' }),
    answer: s => `ETH is ${s.price} USD (round 42, fresh).`
  },
  {
    tool: 'dataset_list',
    train: ['Which datasets are here?', 'List the datasets.', 'What datasets does this node hold?', 'show datasets', 'What data do we have?',
      'Which datasets can I train on?', 'Name the datasets in this home.', 'Do we have any datasets?', 'What is stored on this node?', 'Give me all dataset names.',
      'Which data sets are available on this machine?', 'How many datasets are there?'],
    heldOut: ['Which collections of data do we have locally?', 'Enumerate the datasets on this node.'],
    args: () => ({}),
    result: s => [{ name: s.dataset, head: 'bafy...', forkOf: null }],
    answer: s => `This node holds ${s.dataset}.`
  },
  {
    tool: 'dataset_log',
    train: ['Show the history of {dataset}.', 'What versions does {dataset} have?', 'log of dataset {dataset}', 'Who changed {dataset} last?',
      'When was {dataset} last updated?', 'Show the versions of {dataset}, newest first.', 'What\'s new in {dataset}?', 'Which version of {dataset} is the head?',
      'Who edited {dataset} and when?', '{dataset} history', 'Has {dataset} been updated recently?', 'Show me the log of {dataset}.'],
    heldOut: ['How has {dataset} changed over time?', 'List the commits of {dataset}.'],
    args: s => ({ name: s.dataset }),
    result: () => [{ cid: 'bafy...', author: 'curator', message: 'first import' }],
    answer: s => `${s.dataset} has one version, "first import" by curator.`
  },
  {
    tool: 'dataset_read',
    train: ['Read the first rows of {file} in {dataset}.', 'Show me {file} from {dataset}.', 'What is in {file} of {dataset}?', 'Open {file} in {dataset}.',
      'cat {file} from {dataset}', 'Display the top of {dataset}/{file}.', 'Read {file} of {dataset}.', 'Let me see the rows of {file} in {dataset}.',
      'What does {dataset}\'s {file} contain?', 'Fetch {file} from {dataset} and show a few lines.'],
    heldOut: ['Print the beginning of {file} in the {dataset} dataset.'],
    args: s => ({ ref: s.dataset, path: s.file }),
    result: s => ({ path: s.file, total: 200, records: ['{"id": 1}'] }),
    answer: s => `${s.file} has 200 rows; the first is {"id": 1}.`
  },
  {
    tool: 'dataset_search',
    train: ['Search {dataset} for {word}.', 'Find rows about {word} in {dataset}.', 'Does {dataset} mention {word}?', 'Which rows of {dataset} contain {word}?',
      'grep {dataset} for {word}', 'Where does {word} appear in {dataset}?', 'Any lines with {word} in {dataset}?', 'Find {word} in {dataset}.',
      'Search the {dataset} dataset for the word {word}.', 'Is {word} anywhere in {dataset}?'],
    heldOut: ['Look up {word} inside {dataset}.'],
    args: s => ({ ref: s.dataset, query: s.word }),
    result: s => ({ hits: [{ path: 'rows.jsonl', row: 17, text: `a row about ${s.word}` }] }),
    answer: s => `Row 17 of rows.jsonl mentions ${s.word}.`
  },
  {
    tool: 'job_list',
    train: ['Which training jobs are there?', 'List the jobs on the market.', 'What jobs are open?', 'Show all jobs.', 'How many training jobs are on the market?',
      'jobs?', 'What is being trained right now?', 'Which jobs are running or finalized?', 'Are there any jobs waiting for a trainer?', 'Which jobs are finalized?',
      'Give me an overview of the training market.'],
    heldOut: ['Show every training job and its state.'],
    args: () => ({}),
    result: s => [{ id: String(s.id), status: 'finalized', steps: 40 }],
    answer: s => `Job ${s.id} is finalized.`
  },
  {
    tool: 'job_show',
    train: ['Show job {id}.', 'Which dataset was job {id} trained on, and who checked it?', 'Who trained job {id}?', 'Was job {id} disputed?',
      'What model did job {id} produce?', 'Tell me about job {id}.', 'job {id}?', 'Which recipe did job #{id} use?', 'Which validators checked job {id}?',
      'What is the state of job {id}?', 'Open job {id}.'],
    heldOut: ['Give me the details of training job number {id}.', 'Who attested job {id}?'],
    args: s => ({ id: s.id }),
    result: s => ({ id: s.id, dataset: 'bafy...', trainer: '0x7099...', attestors: ['0x3C44...'], disputes: [] }),
    answer: s => `Job ${s.id} trained on bafy..., checked by 0x3C44....`
  },
  {
    tool: 'dao_proposals',
    train: ['What are the proposals of the {dataset} DAO?', 'Show the DAO proposals for {dataset}.', 'What is {dataset}\'s DAO voting on?',
      'Any votes open on {dataset}?', 'Which proposals passed in the {dataset} DAO?', 'dao of {dataset}', 'What has the {dataset} DAO decided?',
      'Who voted on the {dataset} proposals?', 'Is there a pending vote for {dataset}?', 'List the {dataset} DAO votes.'],
    heldOut: ['Which governance proposals does {dataset} have open?'],
    args: s => ({ dao: s.dataset }),
    result: s => [{ name: s.dataset, proposals: [{ id: '1', state: 'Executed', description: 'make v2 canonical' }] }],
    answer: s => `The ${s.dataset} DAO executed "make v2 canonical".`
  },
  {
    tool: 'knowledge_put',
    train: ['Save a note that {fact}.', 'Remember that {fact}.', 'Share a note: {fact}.', 'Add to the shared knowledge: {fact}.',
      'Please record that {fact}.', 'Make a note: {fact}', 'Post a note saying {fact}.', 'Store this fact: {fact}.', 'Publish a note that {fact}.',
      'Keep a signed note that {fact}.'],
    heldOut: ['Write down for everyone that {fact}.'],
    args: s => ({ title: s.fact.split(' ').slice(0, 3).join(' '), text: `${s.fact[0].toUpperCase()}${s.fact.slice(1)}.` }),
    result: () => ({ cid: 'bafk...' }),
    answer: () => 'Saved as note bafk....'
  },
  {
    tool: 'knowledge_search',
    train: ['What do our notes say about {topic}?', 'Search the shared knowledge for {topic}.', 'Is there a note on {topic}?', 'Find notes about {topic}.',
      'Any notes mentioning {topic}?', 'Look in the knowledge base for {topic}.', 'Who wrote about {topic}?', 'Tell me what the shared notes say on {topic}.',
      'knowledge about {topic}', 'Which notes cover {topic}?'],
    heldOut: ['What does the community know about {topic}?'],
    args: s => ({ query: s.topic }),
    result: s => ({ hits: [{ cid: 'bafk...', title: s.topic, text: `A note on ${s.topic}.` }] }),
    answer: s => `Note bafk... covers ${s.topic}.`
  },
  {
    tool: 'agents_list',
    train: ['Which agents are known?', 'List the other agents.', 'Who else is on the network?', 'What agents have you seen?', 'Show the agent cards.',
      'Are other agents online?', 'How many agents are around?', 'agents?', 'Who can I talk to on the network?', 'Name the agents you know of.'],
    heldOut: ['Which peers run an agent I could ask?'],
    args: () => ({}),
    result: s => ({ agents: [{ name: s.agent }] }),
    answer: s => `I know ${s.agent}.`
  },
  {
    tool: 'agent_ask',
    train: ['Ask {agent} about {topic}.', 'What does {agent} say about {topic}?', 'Have {agent} explain {topic}.', 'Check with {agent} about {topic}.',
      'Get {agent}\'s view on {topic}.', '{agent}, what about {topic}?', 'Could you ask the {agent} agent about {topic}?', 'Query {agent} on {topic}.',
      'Let {agent} tell us about {topic}.', 'Consult {agent} on {topic}.'],
    heldOut: ['Put a question about {topic} to {agent}.'],
    args: s => ({ agent: s.agent, question: `What do you know about ${s.topic}?` }),
    result: s => ({ answer: `${s.topic} are covered in note bafk...` }),
    answer: s => `${s.agent} says: ${s.topic} are covered in note bafk....`
  }
]

/** How people also start a question; training questions sometimes get one, and lose their capital or final stop, so wording details matter less. */
const CONSONANTS = [...'bcdfghjklmnprstvwz']
const VOWELS = [...'aeiou']

const OPENERS = ['Please, ', 'Hi! ', 'Quick question: ', 'Can you tell me: ', 'Hey, ', 'I need this: ']

const fill = (phrase: string, s: Slots): string => phrase.replace(/\{(\w+)\}/g, (_, k: keyof Slots) => String(s[k]))

/** The call's arguments in the tool's schema order, every property present (null when left out), as the grammar writes them. */
function fullArgs (tool: string, args: Record<string, unknown>): Record<string, unknown> {
  const schema = commonsTools.find(t => t.name === tool)
  if (schema === undefined) throw new Error(`template for unknown tool ${tool}`)
  return Object.fromEntries(Object.keys(schema.input).map(k => [k, args[k] ?? null]))
}

export interface ToolDialogueSets {
  train: Dialogue[]
  /** Phrasings never used in train. */
  heldOut: Dialogue[]
}

/**
 * `perTemplate` training dialogues per tool and `heldOutPerTemplate` held-out ones, drawn
 * from `seed`; `unknownWords` is the share of training questions given a made-up word.
 */
export function toolDialogues (options: { seed?: number, perTemplate?: number, heldOutPerTemplate?: number, unknownWords?: number } = {}): ToolDialogueSets {
  // The same seed gives the same dataset on every machine.
  const next = seededRandom(options.seed ?? 1)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]
  const tools = commonsTools.map(t => t.name)
  // A quarter of training questions get an opener, a quarter lose their final stop or mark.
  const vary = (question: string): string => {
    const r = next()
    if (r < 0.25) return pick(OPENERS) + question[0].toLowerCase() + question.slice(1)
    if (r < 0.5) return question.replace(/[.?]$/, '')
    return question
  }
  // A made-up word: to the model, like any word it was never trained on.
  const madeUp = (): string => Array.from({ length: 3 + Math.floor(next() * 6) }, (_, i) => pick(i % 2 === 0 ? CONSONANTS : VOWELS)).join('')
  // Some phrasings get one of their words (never a slot) replaced by a made-up one, or a
  // made-up word put in: the model learns to choose from the words it knows, as it must
  // when a question is worded with words it has not seen.
  const unknownWords = (phrase: string): string => {
    const share = options.unknownWords ?? 0
    if (share === 0 || next() >= share) return phrase
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
  const draw = (template: Template, phrases: string[], varied: boolean): Dialogue => {
    const s: Slots = {
      dataset: pick(DATASETS), file: pick(FILES), word: pick(WORDS), id: Math.floor(next() * 20), fact: pick(FACTS), topic: pick(TOPICS), agent: pick(AGENTS),
      price: (2500 + Math.floor(next() * 100_000) / 100).toFixed(2)
    }
    const phrase = pick(phrases)
    const question = fill(varied ? unknownWords(phrase) : phrase, s)
    return { tools, question: varied ? vary(question) : question, call: { name: template.tool, params: fullArgs(template.tool, template.args(s)) }, result: template.result(s), answer: template.answer(s) }
  }
  const train: Dialogue[] = []
  const heldOut: Dialogue[] = []
  // Held-out questions first: they depend on the seed alone, not on how much training data is drawn.
  for (const template of TEMPLATES) for (let i = 0; i < (options.heldOutPerTemplate ?? 5); i++) heldOut.push(draw(template, template.heldOut, false))
  for (const template of TEMPLATES) for (let i = 0; i < (options.perTemplate ?? 40); i++) train.push(draw(template, template.train, true))
  // Interleaved, so a window of the corpus holds several tools.
  for (let i = train.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[train[i], train[j]] = [train[j], train[i]]
  }
  return { train, heldOut }
}

/** The templates' phrasings, for checking that held-out ones never appear in training. */
export const templatePhrasings = (): Array<{ tool: string, train: string[], heldOut: string[] }> => TEMPLATES.map(t => ({ tool: t.tool, train: t.train, heldOut: t.heldOut }))
