/**
 * The phrasings tool-use dialogues are drawn from: per tool, training phrasings, held-out
 * ones (the benchmark's final measure) and validation ones (what every choice of data,
 * recipe and length is made on). The three were written apart: the held-out ones first
 * (the previous round's), the validation ones without looking at them, and the training
 * ones as general vocabulary; toolDialogues.test.ts checks no training question is within
 * two words of a held-out or validation one.
 *
 * `{slot}` is an argument (a dataset, a job id...), drawn and passed to the call;
 * `[word]` is a word of the general vocabulary (LEXICON), drawn anew each time, so a
 * training phrasing stands for many wordings of the same request.
 */
export interface Template {
  tool: string
  train: string[]
  validation: string[]
  heldOut: string[]
  /** The call's arguments for the drawn slots (absent ones are sent as null); `phrase` is the question's phrasing, for arguments it may leave out. */
  args: (s: Slots, phrase: string) => Record<string, unknown>
  result: (s: Slots) => unknown
  answer: (s: Slots) => string
}

export interface Slots { dataset: string, file: string, word: string, id: number, fact: string, topic: string, agent: string, price: string }

export const DATASETS = ['corpus', 'poems', 'recipes', 'weather', 'laws', 'birds', 'code-notes', 'tool-dialogues', 'tides', 'songs', 'city-maps', 'medical-faq']
export const FILES = ['rows.jsonl', 'data.csv', 'README.md', 'train.txt', 'notes/a.md', 'labels.tsv']
export const WORDS = ['heron', 'rain', 'bread', 'tax', 'river', 'march', 'engine', 'vote', 'salt', 'bridge', 'fever', 'harbour']
export const FACTS = ['herons nest in March', 'the validator replays three steps', 'v2 of corpus drops duplicate rows', 'the feed heartbeat is an hour',
  'the river floods in spring', 'job 3 used the small recipe', 'bread needs two rises', 'the curator signs every version', 'high tide is at 06:10']
export const TOPICS = ['herons', 'the training recipe', 'the price feed', 'dataset licences', 'disputes', 'tides', 'staking', 'the tokenizer', 'bread']
export const AGENTS = ['curator', 'trainer-1', 'validator', 'requester', 'harbour', 'alice', 'node-7']

/**
 * General vocabulary: the words people use for the same thing (a coin's names, what a
 * price is called, ways to ask for a list). Written as a thesaurus of the tools' domain,
 * not from any held-out or validation sentence.
 */
export const LEXICON: Record<string, readonly string[]> = {
  coin: ['ETH', 'ether', 'Ethereum', 'Ether', 'eth', 'ETH/USD'],
  quote: ['price', 'quote', 'rate', 'value', 'exchange rate', 'market price', 'spot price', 'dollar price', 'USD price'],
  now: ['now', 'right now', 'currently', 'today', 'at the moment', 'at present', 'these days', 'at this time', 'as of now'],
  trade: ['trading at', 'worth', 'selling for', 'going for', 'priced at', 'valued at', 'changing hands at'],
  tell: ['Tell me', 'Show me', 'Give me', 'I want to know', 'Let me know', 'Report', 'Fetch', 'Look up'],
  show: ['Show', 'List', 'Display', 'Print', 'Enumerate', 'Give me', 'Name', 'Output', 'Tell me'],
  all: ['all', 'all the', 'every one of the', 'each of the', 'the'],
  datasets: ['datasets', 'data sets', 'corpora', 'dataset names', 'stored datasets', 'collections'],
  here: ['here', 'on this node', 'locally', 'in this home', 'on this machine', 'in the store'],
  history: ['history', 'log', 'commits', 'versions', 'changes', 'revisions', 'commit log', 'change log'],
  changed: ['changed', 'evolved', 'been edited', 'been updated', 'grown', 'moved on'],
  read: ['Read', 'Show', 'Open', 'Print', 'Display', 'Fetch', 'Output', 'Dump'],
  start: ['first rows', 'first lines', 'beginning', 'start', 'top', 'head', 'opening lines'],
  search: ['Search', 'Look through', 'Scan', 'Grep', 'Find', 'Hunt for', 'Seek'],
  inside: ['in', 'inside', 'within', 'across'],
  jobs: ['jobs', 'training jobs', 'training runs', 'jobs on the market', 'market jobs'],
  state: ['state', 'status', 'progress', 'outcome', 'stage'],
  job: ['job', 'training job', 'job number', 'run'],
  details: ['details', 'facts', 'record', 'summary', 'full story', 'particulars'],
  checked: ['checked', 'attested', 'validated', 'verified', 'audited', 'signed off'],
  dao: ['DAO', 'community', 'governance', 'members', 'voters', 'council'],
  decide: ['decide', 'approve', 'pass', 'agree on', 'vote through', 'reject'],
  lately: ['lately', 'recently', 'so far', 'this week', 'of late'],
  proposals: ['proposals', 'votes', 'governance proposals', 'motions', 'ballots', 'open proposals'],
  save: ['Save', 'Remember', 'Record', 'Note down', 'Write down', 'Store', 'Publish', 'Keep', 'Log'],
  everyone: ['for everyone', 'for all', 'for the network', 'for the community', 'publicly', 'for later'],
  notes: ['notes', 'shared notes', 'knowledge base', 'shared knowledge', 'community notes', 'written notes'],
  agents: ['agents', 'other agents', 'peer agents', 'agent cards', 'remote agents'],
  peers: ['peers', 'nodes', 'other nodes', 'people', 'machines'],
  hold: ['hold', 'have', 'keep', 'store', 'host', 'carry'],
  about: ['about', 'on', 'regarding', 'concerning', 'as to'],
  ask: ['Ask', 'Query', 'Consult', 'Check with', 'Question', 'Put a question to']
}

export const TEMPLATES: Template[] = [
  {
    tool: 'price',
    train: ['What is the [coin] [quote] [now]?', 'How much is [coin] [now]?', 'Give me the current [coin] [quote].', 'Is the [coin] [quote] on chain fresh?', '[quote] of [coin]?',
      'What does one [coin] cost in dollars?', '[coin]?', 'Read the price feed.', 'How many dollars is an [coin] [trade] [now]?', 'Check the Chainlink feed for [coin].',
      'What\'s the going [quote] for [coin]?', 'Is the feed stale?', 'Current [quote] of [coin], please.', 'How is [coin] priced [now]?', 'What is [coin] [trade]?',
      '[tell] what [coin] is [trade].', 'How much does [coin] cost [now]?', '[coin] [quote] [now]?', 'What is the [quote] of one [coin] [now]?', 'Where does [coin] stand [now]?'],
    validation: ['How pricey is Ethereum lately?', 'What would I pay for a single ether?', 'Ethereum in US dollars, please.', 'Where is ETH sitting against the dollar?'],
    heldOut: ['What is ether trading at at the moment?', 'Tell me the latest ETH quote.'],
    args: () => ({}),
    result: s => ({ price: s.price, verdict: 'fresh', round: '42' }),
    answer: s => `ETH is ${s.price} USD (round 42, fresh).`
  },
  {
    tool: 'dataset_list',
    train: ['Which [datasets] are [here]?', '[show] [all] [datasets].', 'What [datasets] does this node hold?', 'show datasets', 'What data do we have?',
      'Which [datasets] can I train on?', 'Do we have any [datasets]?', 'What is stored [here]?', 'Give me all dataset names.',
      'Which [datasets] are available [here]?', 'How many [datasets] are there?', 'Tell me which [datasets] exist.',
      'What [datasets] do you [hold]?', 'Which [datasets] does this node [hold]?', '[show] the [datasets] you [hold].'],
    validation: ['What data lives on this node?', 'Could you list every dataset you hold?', 'Which corpora can I find here?'],
    heldOut: ['Which collections of data do we have locally?', 'Enumerate the datasets on this node.'],
    args: () => ({}),
    result: s => [{ name: s.dataset, head: 'bafy...', forkOf: null }],
    answer: s => `This node holds ${s.dataset}.`
  },
  {
    tool: 'dataset_log',
    train: ['Show {dataset}\'s [history].', 'What [history] does {dataset} have?', '[history] of dataset {dataset}', 'Who changed {dataset} last?',
      'When was {dataset} last updated?', '[show] {dataset}\'s [history], newest first.', 'What\'s new in {dataset}?', 'Which version of {dataset} is the head?',
      'Who edited {dataset} and when?', '{dataset} [history]', 'Has {dataset} [changed] recently?',
      'What is in the [history] of {dataset}?'],
    validation: ['Walk me through the revisions of {dataset}.', 'What happened to {dataset} recently?', 'Who has committed to {dataset}?'],
    heldOut: ['How has {dataset} changed over time?', 'List the commits of {dataset}.'],
    args: s => ({ name: s.dataset }),
    result: () => [{ cid: 'bafy...', author: 'curator', message: 'first import' }],
    answer: s => `${s.dataset} has one version, "first import" by curator.`
  },
  {
    tool: 'dataset_read',
    train: ['[read] the [start] of {dataset}\'s {file}.', 'Show me {file} from {dataset}.', 'What is in {file} of {dataset}?', '[read] {file} in {dataset}.',
      'cat {file} from {dataset}', '[read] the [start] of {dataset}/{file}.', '[read] {file} of {dataset}.', 'Let me see the [start] of {file} in {dataset}.',
      'What does {dataset}\'s {file} contain?', '[read] {file} from the {dataset} dataset.'],
    validation: ['Output a few lines of {file} from {dataset}.', 'Give me the contents of {file} in {dataset}.'],
    heldOut: ['Print the beginning of {file} in the {dataset} dataset.'],
    // Without a file named, the question asks for the version's files.
    args: (s, phrase) => ({ ref: s.dataset, path: phrase.includes('{file}') ? s.file : null }),
    result: s => ({ path: s.file, total: 200, records: ['{"id": 1}'] }),
    answer: s => `${s.file} has 200 rows; the first is {"id": 1}.`
  },
  {
    tool: 'dataset_search',
    train: ['[search] {dataset} for {word}.', 'Find rows about {word} [inside] {dataset}.', 'Does {dataset} mention {word}?', 'Which rows of {dataset} contain {word}?',
      'grep {dataset} for {word}', 'Where does {word} appear [inside] {dataset}?', 'Any lines with {word} [inside] {dataset}?',
      '[search] the {dataset} dataset for the word {word}.', 'Is {word} anywhere [inside] {dataset}?', '[search] for {word} [inside] the {dataset} data.'],
    validation: ['Is there anything about {word} in {dataset}?', 'Which records in {dataset} talk about {word}?'],
    heldOut: ['Look up {word} inside {dataset}.'],
    args: s => ({ ref: s.dataset, query: s.word }),
    result: s => ({ hits: [{ path: 'rows.jsonl', row: 17, text: `a row about ${s.word}` }] }),
    answer: s => `Row 17 of rows.jsonl mentions ${s.word}.`
  },
  {
    tool: 'job_list',
    train: ['Which [jobs] are there?', '[show] [all] [jobs].', 'What [jobs] are open?', 'Show all jobs.', 'How many [jobs] are there?',
      'jobs?', 'What is being trained [now]?', 'Which [jobs] are running or finalized?', 'Are there any [jobs] waiting for a trainer?', 'Which [jobs] are finalized?',
      'Give me an overview of the training market.', '[show] [all] [jobs] with their [state].', 'What [state] are the [jobs] in?'],
    validation: ['What training is going on in the market?', 'Are any training jobs finished yet?', 'Give me a rundown of the jobs and how far along they are.'],
    heldOut: ['Show every training job and its state.'],
    args: () => ({}),
    result: s => [{ id: String(s.id), status: 'finalized', steps: 40 }],
    answer: s => `Job ${s.id} is finalized.`
  },
  {
    tool: 'job_show',
    train: ['Show [job] {id}.', 'Which dataset was job {id} trained on, and who checked it?', 'Which trainer trained [job] {id}?', 'Was [job] {id} disputed?',
      'What model did [job] {id} produce?', 'Tell me about [job] {id}.', 'job {id}?', 'Which recipe did job #{id} use?', 'Which validators [checked] [job] {id}?',
      'What is the [state] of [job] {id}?', 'Open [job] {id}.', '[job] {id}: [tell] the [details].', '[details] of [job] {id}, please.'],
    validation: ['Which trainer took job {id}, and did anyone check it?', 'What happened with job {id}?', 'I need the full record of job {id}.'],
    heldOut: ['Give me the details of training job number {id}.', 'Who attested job {id}?'],
    args: s => ({ id: s.id }),
    result: s => ({ id: s.id, dataset: 'bafy...', trainer: '0x7099...', attestors: ['0x3C44...'], disputes: [] }),
    answer: s => `Job ${s.id} trained on bafy..., checked by 0x3C44....`
  },
  {
    tool: 'dao_proposals',
    train: ['What are the [proposals] of the {dataset} DAO?', 'Show the DAO [proposals] for {dataset}.', 'What is {dataset}\'s DAO voting on?',
      'Any votes open on {dataset}?', 'Which [proposals] passed in the {dataset} DAO?', 'dao of {dataset}', 'What has the {dataset} DAO decided?',
      'Who voted on the {dataset} [proposals]?', 'Is there a pending vote for {dataset}?', '[show] the {dataset} DAO [proposals].', 'Which [proposals] does the {dataset} [dao] have?',
      'What is the {dataset} [dao] voting on?', '[lately], what did the {dataset} [dao] [decide]?', 'Which [proposals] did the {dataset} [dao] [decide]?', 'Show what the {dataset} [dao] is voting on.'],
    validation: ['What is up for a vote in the {dataset} DAO?', 'Has the {dataset} community approved anything lately?'],
    heldOut: ['Which governance proposals does {dataset} have open?'],
    // Without a dataset named, the question asks for every DAO's proposals.
    args: (s, phrase) => ({ dao: phrase.includes('{dataset}') ? s.dataset : null }),
    result: s => [{ name: s.dataset, proposals: [{ id: '1', state: 'Executed', description: 'make v2 canonical' }] }],
    answer: s => `The ${s.dataset} DAO executed "make v2 canonical".`
  },
  {
    tool: 'knowledge_put',
    train: ['[save] a note that {fact}.', 'Remember that {fact}.', 'Share a note: {fact}.', 'Add to the shared knowledge: {fact}.',
      'Please record that {fact}.', 'Make a note: {fact}', 'Post a note saying {fact}.', '[save] this fact: {fact}.', 'Publish a note that {fact}.',
      'Keep a signed note that {fact}.', '[save] a note [everyone]: {fact}.'],
    validation: ['Let everyone know that {fact}.', 'Put on record for the network: {fact}.'],
    heldOut: ['Write down for everyone that {fact}.'],
    args: s => ({ title: s.fact.split(' ').slice(0, 3).join(' '), text: `${s.fact[0].toUpperCase()}${s.fact.slice(1)}.` }),
    result: () => ({ cid: 'bafk...' }),
    answer: () => 'Saved as note bafk....'
  },
  {
    tool: 'knowledge_search',
    train: ['What do our [notes] say about {topic}?', '[search] the [notes] for {topic}.', 'Is there a note on {topic}?', 'Find notes about {topic}.',
      'Any [notes] mentioning {topic}?', 'Look in the knowledge base for {topic}.', 'Who wrote about {topic}?', 'Tell me what the [notes] say on {topic}.',
      'knowledge about {topic}', 'Which [notes] cover {topic}?'],
    validation: ['Do we have anything written on {topic}?', 'Has anyone shared a note about {topic}?'],
    heldOut: ['What does the community know about {topic}?'],
    args: s => ({ query: s.topic }),
    result: s => ({ hits: [{ cid: 'bafk...', title: s.topic, text: `A note on ${s.topic}.` }] }),
    answer: s => `Note bafk... covers ${s.topic}.`
  },
  {
    tool: 'agents_list',
    train: ['Which [agents] are known?', '[show] the [agents].', 'Who else is on the network?', 'What [agents] have you seen?', 'Show the agent cards.',
      'Are [agents] online?', 'How many [agents] are around?', 'agents?', 'Who can I talk to on the network?', '[show] the [agents] you know of.',
      'Which [peers] run an agent?', 'What [agents] could I ask?'],
    validation: ['Which other agents are out there?', 'Who runs an agent on this network?'],
    heldOut: ['Which peers run an agent I could ask?'],
    args: () => ({}),
    result: s => ({ agents: [{ name: s.agent }] }),
    answer: s => `I know ${s.agent}.`
  },
  {
    tool: 'agent_ask',
    train: ['[ask] {agent} about {topic}.', 'What does {agent} say about {topic}?', 'Have {agent} explain {topic}.', '[ask] {agent} on {topic}.',
      'Get {agent}\'s view on {topic}.', '{agent}, what about {topic}?', 'Could you ask the {agent} agent about {topic}?', 'Query {agent} on {topic}.',
      'Let {agent} tell us about {topic}.', '[ask] the {agent} agent about {topic}.',
      '[ask] {agent} [about] {topic}.', 'Talk to {agent} [about] {topic}.', 'What does {agent} think [about] {topic}?', 'Get {agent}\'s opinion [about] {topic}.'],
    validation: ['See what {agent} thinks about {topic}.', 'Have a word with {agent} regarding {topic}.'],
    heldOut: ['Put a question about {topic} to {agent}.'],
    args: s => ({ agent: s.agent, question: `What do you know about ${s.topic}?` }),
    result: s => ({ answer: `${s.topic} are covered in note bafk...` }),
    answer: s => `${s.agent} says: ${s.topic} are covered in note bafk....`
  }
]
