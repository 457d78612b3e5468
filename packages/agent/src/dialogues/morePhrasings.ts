/**
 * More ways people ask for each tool, beside toolTemplates.ts's: written as different users
 * would type them (terse, chatty, formal, indirect), so that the model learns each tool's
 * key words (price, feed, stale; datasets, hold; versions, commits; read, rows; search,
 * mention; jobs, market; job N; DAO, proposals; note, share; notes, written; agents,
 * online; ask an agent) rather than a few sentences. Each tool's list also holds requests
 * that sit close to another tool's (a job list and one job; putting a note and searching
 * notes; a dataset list and one dataset's versions) so that the content word decides.
 *
 * EXTRA_VALIDATION was written first, apart from these training ones; toolDialogues.test.ts
 * checks no training wording is within a word or two of it (nor of the held-out sets).
 */
export const EXTRA_TRAIN: Record<string, readonly string[]> = {
  price: ['price?', 'eth price', 'ETH/USD?', '[coin] in dollars?', 'What\'s [coin] at?', 'I\'d like to know the [quote] of [coin] [now].',
    'Would you check the [coin] [quote] for me?', 'Is the price feed up to date?', 'When was the [coin] feed last updated?', 'Has the price feed gone stale?',
    'Read the [coin]/USD feed and tell me if it is fresh.', 'What round is the price feed on?', 'How many USD for one [coin]?', 'Convert one [coin] to dollars.',
    'Kindly report the present [coin] [quote].', 'I\'m curious what [coin] costs [now].', 'What does the chain say [coin] is worth?', 'Latest round of the [coin] feed?',
    'Give me the [coin] [quote] and whether it is stale.', 'Is the [quote] of [coin] still fresh or stale?', 'Dollar value of [coin]?', 'How expensive is [coin] [now]?',
    'What\'s one [coin] going for [now]?', 'Check what [coin] is [trade] on the feed.', 'Price of ETH in USD, from the oracle.', 'What is the oracle price of [coin]?',
    'I want the USD [quote] of [coin], fresh if possible.', 'Any idea what [coin] is [trade] [now]?', 'Has [coin] gone up or down? What is it [now]?', 'Show the feed\'s value and decimals.'],
  dataset_list: ['datasets?', 'list datasets', 'my datasets', 'What [datasets] are there?', 'I\'d like to see the [datasets] you [hold].', 'Do you [hold] any data?', 'Which [datasets] has this node got?', 'What can I train on [here]?',
    'Kindly list the [datasets] stored [here].', 'What [datasets] are stored [here]?', 'List every dataset with its head version.', 'Which [datasets] were forked from another?',
    'Show the names and heads of the [datasets].', 'How many [datasets] do you [hold]?', 'Is there any data [here] at all?',
    'Which [datasets] could a job use [here]?', 'Give me a list of the [datasets].', 'What collections of data are [here]?', 'Tell me what data this node keeps.',
    'Overview of the [datasets], please.', 'Which data sets exist [here]?', 'What data have you got?'],
  dataset_log: ['{dataset} versions', 'versions of {dataset}?', '{dataset} log', 'Who committed to {dataset} last?', 'How many versions does {dataset} have?', 'What was the last commit to {dataset}?', 'Show me the commit messages of {dataset}.',
    'Who authored the versions of {dataset}?', 'What changed in {dataset} and when?', 'When was the latest version of {dataset} made?', 'Kindly show the [history] of the {dataset} dataset.', 'Which versions of {dataset} exist?', 'Has anybody updated {dataset}?', 'Give me {dataset}\'s [history].',
    'What are the past versions of {dataset}?', 'Show the version CIDs of {dataset}.', 'What edits were made to {dataset}?', 'How has the {dataset} dataset [changed]?',
    'Tell me the story of {dataset}: who changed what.', 'The [history] of {dataset}, please.', 'Has {dataset} got a new version?'],
  dataset_read: ['open {file} in {dataset}', '{dataset}/{file}', 'Show {file} of {dataset}, please.', 'I\'d like to read {file} from {dataset}.', 'What rows are in {file} of {dataset}?',
    'Print the first lines of {file} in {dataset}.', 'Let me look at {file} in {dataset}.', 'Can I see {file} from {dataset}?', 'Display {dataset}\'s {file}.',
    'Read me some rows of {file} in {dataset}.', 'What\'s written in {file} of {dataset}?', 'Kindly open {file} of the {dataset} dataset.', 'Show the [start] of {file} in {dataset}.',
    'Which files does {dataset} have?', 'What files are in {dataset}?', 'Open the {dataset} dataset and show its files.', 'Read {dataset}.',
    'What is inside {dataset}?', 'Show what {dataset} contains.', 'Fetch the rows of {file} from {dataset}.', 'Peek at {file} in {dataset}.', 'Dump {file} of {dataset}.'],
  dataset_search: ['{word} in {dataset}?', 'search {dataset} {word}', 'Find {word} in {dataset}.', 'Does {word} occur in {dataset}?', 'Which lines of {dataset} mention {word}?',
    'I\'d like to find rows about {word} in {dataset}.', 'Is {word} mentioned anywhere in {dataset}?', 'Search the {dataset} data for {word}, please.', 'Full-text search {dataset} for {word}.',
    'Look for {word} in the {dataset} dataset.', 'Are there rows containing {word} in {dataset}?', 'Where in {dataset} is {word} mentioned?', 'Kindly search {dataset} for {word}.',
    'Find me anything on {word} in {dataset}.', 'Which files of {dataset} contain {word}?', 'Can you find {word} in {dataset}?', 'Hits for {word} in {dataset}?',
    'Show rows of {dataset} that contain {word}.', 'How often does {dataset} mention {word}?', 'Does the {dataset} data say anything about {word}?'],
  job_list: ['jobs', 'job list', 'list jobs', 'market?', 'What\'s on the training market?', 'I\'d like to see the [jobs].', 'Which [jobs] are on the market?',
    'Any [jobs] posted?', 'Show the job board.', 'What is the [state] of every job?', 'List the [jobs] and their rewards.', 'Which trainers are working on [jobs]?',
    'How many [jobs] are finalized?', 'Kindly list the open [jobs].', 'Are any [jobs] still running?', 'Which [jobs] have finished?', 'What work is on the market?',
    'Give me the list of [jobs] with status.', 'What [jobs] were posted recently?', 'Who requested the [jobs] on the market?', 'Are there [jobs] I could train?',
    'List all [jobs], newest first.', 'Overview of the [jobs], please.', 'What is happening on the market [now]?'],
  job_show: ['job {id}', 'job #{id}?', 'details of job {id}', 'What is job {id}?', 'Is [job] {id} finalized?', 'What reward does [job] {id} pay?', 'Which recipe and dataset did [job] {id} use?', 'Did anyone attest [job] {id}?',
    'Kindly show [job] {id}.', 'What is the status of job number {id}?', 'Was job {id} challenged?', 'How many steps did [job] {id} run?', 'Tell me everything about [job] {id}.',
    'Has job {id} been validated?', 'What did job {id} train on?', 'Look up [job] {id}.', 'Show me job {id}\'s trainer and attestors.', 'Is there a dispute on job {id}?',
    'What became of job {id}?', 'Give me job {id}, please.'],
  dao_proposals: ['{dataset} proposals', 'DAO of {dataset}?', 'proposals?', 'Any open proposals?', 'What are the DAOs voting on?', 'List every DAO\'s proposals.',
    'I\'d like to see the [proposals] of the {dataset} DAO.', 'What is being voted on for {dataset}?', 'Which [proposals] are pending in {dataset}\'s DAO?', 'How did the vote on {dataset} go?',
    'Kindly list the [proposals] of {dataset}.', 'Who governs {dataset}, and what is proposed?', 'Which proposals were executed for {dataset}?', 'Are there votes for {dataset}?',
    'What is the head version the {dataset} DAO chose?', 'Show votes for and against in the {dataset} DAO.', 'What governance is going on for {dataset}?', 'Any motions in the {dataset} DAO?',
    'What proposals are open across the DAOs?', 'What did the {dataset} voters [decide]?', 'Is anything up for a vote [lately]?', 'Governance of {dataset}?'],
  knowledge_put: ['note: {fact}', 'remember: {fact}', 'Share this with everyone: {fact}.', 'I\'d like to share a note: {fact}.', 'Please share that {fact}.',
    'Post to the shared knowledge that {fact}.', 'Tell everyone that {fact}.', 'Add a note saying {fact}.', 'Sign and share a note: {fact}.', 'Kindly record that {fact}.',
    'Store this as a note: {fact}.', 'Make sure the network knows {fact}.', 'Jot down that {fact}.', 'Save for the others that {fact}.', 'Commit a note that {fact}.',
    'New note: {fact}.', 'Let the community know {fact}.', 'Write a note for all: {fact}.', 'Put this in the knowledge base: {fact}.'],
  knowledge_search: ['notes on {topic}?', '{topic} notes', 'search notes {topic}', 'Has anybody written about {topic}?', 'I\'d like to read the notes about {topic}.',
    'What notes mention {topic}?', 'Find shared notes on {topic}.', 'Is there anything in the knowledge base on {topic}?', 'What has been shared about {topic}?',
    'Kindly search the shared notes for {topic}.', 'Do the notes say anything on {topic}?', 'Which notes talk about {topic}?', 'What is known about {topic}?',
    'Search what people wrote on {topic}.', 'Any written knowledge on {topic}?', 'Look up {topic} in the notes.', 'Who has shared something on {topic}?',
    'Find me a note about {topic}, with its CID.', 'What do we know about {topic}?', 'What did the others write on {topic}?'],
  agents_list: ['agents', 'list agents', 'who is online?', 'peers?', 'Which [agents] are online?', 'I\'d like to see the [agents] you have seen.', 'Who else runs an agent?',
    'Which nodes have agents?', 'What [agents] are out on the network?', 'Kindly list the known [agents].', 'What skills do the [agents] have?', 'Who is around on the network?',
    'Which [peers] have you seen?', 'List the agent cards you have seen.', 'Are there other [agents] I can talk to?', 'Which [agents] can answer questions?', 'Who else is online?',
    'How many [agents] have you met?', 'Show me the [peers] and their agents.', 'What other agents exist?', 'Who is out there?'],
  agent_ask: ['ask {agent}: {topic}?', 'ask {agent} about {topic}', 'Ask the {agent} agent what it knows about {topic}.', 'I\'d like to ask {agent} about {topic}.',
    'What can {agent} tell me about {topic}?', 'Kindly ask {agent} about {topic}.', 'Could {agent} answer something on {topic}?',
    'Get an answer from {agent} on {topic}.', 'Check with the agent {agent} on {topic}.', 'Does {agent} know anything about {topic}?', 'Inquire with {agent} about {topic}.',
    'Hey {agent}, tell me about {topic}.', 'Ask the agent named {agent} about {topic}.', 'Let\'s hear from {agent} on {topic}.', 'Reach out to {agent} about {topic}.',
    'Question for {agent}: what about {topic}?', 'Find out from {agent} about {topic}.']
}

/** More validation phrasings per tool (choices are made on them with toolTemplates.ts's). */
export const EXTRA_VALIDATION: Record<string, readonly string[]> = {
  price: ['Does the chain have a current figure for ETH?', 'ether vs dollar?', 'I am wondering how much Ethereum goes for.'],
  dataset_list: ['What sort of data do you look after?', 'Got any datasets sitting around?', 'Show what data is held.'],
  dataset_log: ['Give me a rundown of every commit on {dataset}.', 'Who touched {dataset} and when did they?', 'Show the version list for {dataset}.'],
  dataset_read: ['Let me read the rows in {file} of {dataset}.', 'Open up {dataset} and show me {file}.', 'What files make up {dataset}?'],
  dataset_search: ['Search for the word {word} within {dataset}.', 'Anything mentioning {word} inside {dataset}?', 'Go through {dataset} looking for {word}.'],
  job_list: ['What jobs are up on the board?', 'Show the training jobs people posted.', 'What is everyone training?'],
  job_show: ['Fill me in on job {id}.', 'Who attested to job {id}, and did it finalize?', 'Tell me what happened in job {id}.'],
  dao_proposals: ['Are there proposals in the {dataset} DAO right now?', 'What has been proposed for {dataset}?', 'Show the open votes.'],
  knowledge_put: ['Add this note for everyone: {fact}.', 'Please keep a shared record that {fact}.', 'Share with the network: {fact}.'],
  knowledge_search: ['Anybody left notes concerning {topic}?', 'What have people written regarding {topic}?', 'Is {topic} covered by anything the community wrote down?'],
  agents_list: ['What agents do you know?', 'Show me who is on the network.', 'Can I reach any agents?'],
  agent_ask: ['Ask the agent {agent} a question about {topic}.', 'What would {agent} say on {topic}?', 'Put {topic} to {agent}.']
}
