/**
 * A second held-out set, written BLIND: by someone given only the tools' names, what they
 * do and their argument slots, who never saw the training phrasings, the lexicon, the
 * validation or the first held-out set (session 7, after the shipped model was trained).
 * Six requests per tool as users would type them. A blind phrasing that training happens to
 * cover (the same words, or a word or two from a training wording: toolDialogues.test.ts
 * checks) is not held out: those are kept in DROPPED, with nothing else changed.
 * The shipped model was scored on this set once, after it was written and before any change.
 */
export const BLIND_HELD_OUT: Record<string, readonly string[]> = {
  price: [
    'What\'s ETH trading at right now?',
    'Can you check the current ether price in dollars from the oracle?',
    'How much is one ETH worth in USD at the moment, and is the feed fresh?',
    'Is the on-chain price feed for ether stale, or was it updated recently?',
    'Ether to dollars, right now?'
  ],
  dataset_list: [
    'Which datasets do you have on this node?',
    'List all the data sets stored here, please.',
    'What data is this node hosting?',
    'Show me every dataset available locally.',
    'Could you tell me what collections of data you keep?',
    'Datasets on this machine?'
  ],
  dataset_log: [
    'Show me the version history of the {dataset} dataset.',
    'When was {dataset} last changed, and what were the earlier revisions?',
    'List the commits for {dataset}, newest first.',
    'Could you pull up the changelog of the {dataset} data?',
    'How many versions of {dataset} have been published so far?',
    'I\'d like to see the past revisions of {dataset}, please.'
  ],
  dataset_read: [
    'Could you print the contents of {file} from the {dataset} set, please?',
    'I want to read {file} in {dataset}.',
    'Display the lines of the {dataset} dataset\'s {file} file.',
    'Can you dump {file} from {dataset} for me?'
  ],
  dataset_search: [
    'Which rows in {dataset} mention {word}?',
    'Find every occurrence of {word} in {dataset}, please.',
    'Does {word} appear anywhere in the {dataset} data?',
    'Could you look through {dataset} and pull out the entries containing {word}?'
  ],
  job_list: [
    'What training jobs are on the market right now?',
    'Are there any open training jobs I could pick up?',
    'Show me the training job board, please.',
    'How are the current training runs on the marketplace doing?',
    'Give me an overview of every job posted to the market.'
  ],
  job_show: [
    'Show me the details of job {id}.',
    'Who attested training job number {id}?',
    'Which dataset and trainer were used for job {id}?',
    'Has anyone disputed job {id}?',
    'Could you pull up training job #{id} for me, please?',
    'Tell me everything about job {id}, including who verified it.'
  ],
  dao_proposals: [
    'What proposals are up for a vote in the {dataset} DAO?',
    'Is there anything the {dataset} community is currently voting on?',
    'List the DAO proposals attached to the {dataset} dataset, please.',
    'How did the votes go on the proposals for {dataset}?',
    'Any pending governance motions on {dataset}?'
  ],
  knowledge_put: [
    'Share with the network that {fact}.',
    'Please save this note: {fact}.',
    'Remember for everyone that {fact}.',
    'Post a note to the shared knowledge base saying {fact}.',
    'Let the other nodes know that {fact}.',
    'Could you record the fact that {fact} in the shared notes?'
  ],
  knowledge_search: [
    'Has anyone posted anything about {topic}?',
    'Look up notes on {topic}, please.',
    'Find me what\'s been shared on {topic}.',
    'Is there any saved knowledge about {topic} out there?'
  ],
  agents_list: [
    'Which other agents have you seen on the network?',
    'List the peers this node knows about.',
    'Who else is online on the network that you\'ve come across?',
    'Show me all the agents you\'ve encountered, please.',
    'Can you tell me what other nodes\' assistants are around?',
    'Known agents?'
  ],
  agent_ask: [
    'Could you check with {agent}\'s agent what they know about {topic}?',
    'Please send {agent} a question on {topic}.',
    'Find out from {agent} what they think about {topic}.',
    'Ping {agent} and ask about {topic}, please.',
    'I\'d like you to query the agent named {agent} regarding {topic}.'
  ]
}

/** Blind phrasings training already covers (a word or two from a training wording): not held out, not asked. */
export const DROPPED: Record<string, readonly string[]> = {
  price: ['Give me the latest ETH/USD quote please.'],
  dataset_read: ['Open {file} from the {dataset} dataset.', 'Show me the first rows of {file} in {dataset}.'],
  dataset_search: ['Search the {dataset} dataset for the word {word}.', 'Grep {dataset} for {word}.'],
  job_list: ['List all the training jobs and their statuses.'],
  dao_proposals: ['Show me the governance proposals for {dataset}.'],
  knowledge_search: ['What do the shared notes say about {topic}?', 'Search the network\'s knowledge for {topic}.'],
  agent_ask: ['Ask {agent} about {topic}.']
}
