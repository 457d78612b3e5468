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

/**
 * A third held-out set, SEALED: 96 requests (8 per tool) written blind by another writer,
 * given only the tools' names, descriptions and argument slots, kept off the repository
 * (where nobody training could read it) until the final model of session 7 was committed,
 * then scored once by someone who trained nothing: the benchmark's row "held out, sealed".
 * The 13 that training wording came within a word or two of are in SEALED_DROPPED, not asked.
 */
export const SEALED_HELD_OUT: Record<string, readonly string[]> = {
  price: [
    'How much is one ether going for in dollars right now?',
    'Quick check: what\'s the oracle saying ETH trades at, and is that number stale?',
    'Could you tell me the current dollar value of Ethereum according to the on-chain feed?',
    'eth usd rn?',
    'I\'m about to pay someone in ether, so what\'s the exchange rate to the US dollar at the moment?',
    'Has the price feed updated recently, and what does it quote for ETH?',
    'Kindly report the latest Ethereum-to-dollar quotation from the chain\'s oracle.',
    'What would a single ETH fetch in USD today?'
  ],
  dataset_list: [
    'Show me everything you\'ve got in terms of datasets here.',
    'list local datasets.',
    'Before I pick one to train on, can you tell me which datasets are available on this node?',
    'Please enumerate all datasets held locally.',
    'What corpora do we have sitting on this box?',
    'I forgot the names of the datasets we keep here, could you remind me?'
  ],
  dataset_log: [
    'Show me the version history of {dataset}, most recent first.',
    'Who changed the {dataset} dataset lately and when?',
    'What revisions has {dataset} gone through?',
    '{dataset} changelog please.',
    'I\'d like to see the commit log for the {dataset} dataset.',
    'When was {dataset} last updated, and what were the earlier versions?',
    'Kindly provide the revision history for dataset {dataset}.',
    'Has anyone pushed a new version of {dataset} recently?'
  ],
  dataset_read: [
    'Open {file} in the {dataset} dataset and show me its rows.',
    'What\'s inside the file {file} of the {dataset} dataset?',
    'Could you print the contents of {file} that lives in {dataset}?',
    'I want to look at the lines of {file} in dataset {dataset}.',
    'Please display the data stored in {file} within {dataset}.',
    'Let me peek at {dataset}\'s {file}, would you?',
    'Dump the records from {file} belonging to {dataset}.'
  ],
  dataset_search: [
    'Find every row in {dataset} that mentions {word}.',
    'Does the word {word} appear anywhere in the {dataset} dataset?',
    'Which entries of {dataset} contain the term {word}?',
    'I\'m hunting for {word} somewhere in {dataset}, can you look it up?',
    'Kindly run a full-text lookup of {word} across dataset {dataset}.',
    'Pull up any lines in {dataset} where {word} shows up.'
  ],
  job_list: [
    'What training jobs are currently posted on the market?',
    'Show me all the jobs and whether they\'re open, running or done.',
    'Are there any training tasks out there I could pick up?',
    'Give me an overview of every training job on the marketplace with its state.',
    'Which model-training gigs exist right now and what stage is each in?',
    'Please enumerate the market\'s training jobs along with their statuses.',
    'Anything new on the training job board?'
  ],
  job_show: [
    'Who attested training job {id}, and was it disputed?',
    'Which dataset and trainer are behind job number {id}?',
    'job {id} details?',
    'Could you pull up the record for training job {id}?',
    'Has anyone raised a dispute on job {id}?',
    'I\'d like the full breakdown of job {id}, including who verified it.',
    'Please display the particulars of training job number {id}.'
  ],
  dao_proposals: [
    'What proposals are up for a vote in the {dataset} DAO?',
    'Is the {dataset} community voting on anything right now?',
    '{dataset} dao proposals?',
    'Kindly list the governance proposals submitted to the DAO of dataset {dataset}.',
    'What has been proposed for {dataset}\'s governance lately?',
    'I hold tokens in the {dataset} DAO, what motions can I vote on?',
    'Pull up the ballot items for the {dataset} dataset\'s DAO.'
  ],
  knowledge_put: [
    'Share this with the network: {fact}.',
    'Remember for everyone that {fact}.',
    'Please publish the following note to the shared knowledge: {fact}.',
    'Can you save the observation that {fact} so other nodes can see it?',
    'I just learned that {fact}, store it for the network please.',
    'Record in the common knowledge base: {fact}.'
  ],
  knowledge_search: [
    'Has anyone on the network written anything on {topic}?',
    'Look up {topic} in the common knowledge base.',
    'Could you dig through the network\'s saved facts for anything about {topic}?',
    'I\'m curious what\'s been recorded collectively regarding {topic}.',
    'Kindly search the shared knowledge for entries concerning {topic}.',
    'Find me any notes people have posted about {topic}.'
  ],
  agents_list: [
    'Which other agents have you come across on the network?',
    'Who else is out there that this node has seen?',
    'list known agents.',
    'Show me the agents we\'ve discovered so far.',
    'Could you tell me which other nodes\' agents you\'ve encountered?',
    'Please enumerate all agents observed by this node.',
    'Which agents are around that I could talk to?',
    'Give me a roster of the other bots you\'ve spotted on the network.'
  ],
  agent_ask: [
    'Ask {agent} what they know about {topic}.',
    'Could you check with {agent}\'s agent about {topic}?',
    'Send {agent} a question regarding {topic}.',
    'I\'d like {agent} to weigh in on {topic}, can you ask them?',
    'Kindly query the agent of {agent} concerning {topic}.',
    'See what {agent} has to say on {topic}.',
    'Go ask {agent}\'s node for its take on {topic}.'
  ]
}

/** Sealed phrasings training already covers (a word or two from a training wording): not held out, not asked. */
export const SEALED_DROPPED: Record<string, readonly string[]> = {
  dataset_list: ['What data collections are stored on this node?', 'Which datasets does this machine currently host?'],
  dataset_read: ['cat {file} from {dataset}.'],
  dataset_search: ['grep {dataset} for {word}.', 'Search the {dataset} data for occurrences of {word}, please.'],
  job_list: ['list jobs.'],
  job_show: ['Tell me everything about job #{id}.'],
  dao_proposals: ['Show me the governance votes for {dataset}.'],
  knowledge_put: ['note: {fact}.', 'Post to the shared notes that {fact}.'],
  knowledge_search: ['What do the shared notes say about {topic}?', 'notes on {topic}?'],
  agent_ask: ['ping {agent} about {topic}.']
}
