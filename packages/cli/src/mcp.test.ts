import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { advanceTime, devnetAccount } from '@commons/chain'
import { noteMessage, type Note } from '@commons/agent'
import { commons, MAIN, REPO } from './testing.ts'

/**
 * `commons mcp` seen by the MCP SDK's own client over stdio, on a devnet with a dataset,
 * a DAO, a job and a price feed: every tool is listed and called; bad calls answer an
 * error result and the server keeps serving.
 */

const TOOLS = ['agent_ask', 'agents_list', 'dao_proposals', 'dataset_list', 'dataset_log', 'dataset_read', 'dataset_search', 'job_list', 'job_show', 'knowledge_put', 'knowledge_search', 'price']

interface Answer { isError: boolean, text: string, json: any }

let root: string
let h: string[]
let rpcUrl: string
let client: Client
let corpus: string

async function call (name: string, args: Record<string, unknown> = {}): Promise<Answer> {
  const result = await client.callTool({ name, arguments: args }) as { isError?: boolean, content: Array<{ type: string, text: string }> }
  const text = result.content[0]?.text ?? ''
  let json: unknown
  try { json = JSON.parse(text) } catch { json = undefined }
  return { isError: result.isError === true, text, json }
}

async function ok (args: string[]): Promise<string> {
  const run = await commons([...args, ...h])
  assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`)
  return run.stdout.trim()
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-mcp-'))
  const home = join(root, 'home')
  h = ['--home', home]
  // A feed updater that never posts during the test: the stale round stays stale.
  rpcUrl = (JSON.parse(await ok(['chain', 'up', '--detach', '--feed-interval', '3600', '--json'])) as { rpcUrl: string }).rpcUrl
  await ok(['chain', 'deploy'])
  const data = join(root, 'data')
  await mkdir(data)
  await writeFile(join(data, 'rows.jsonl'), Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: i, text: i === 17 ? 'the heron stands in the marsh' : `row ${i} of the corpus` })).join('\n') + '\n')
  await ok(['dataset', 'init', 'corpus'])
  corpus = await ok(['dataset', 'commit', 'corpus', data, '-m', 'first import'])
  await ok(['dao', 'create', 'corpus', '--head', 'corpus'])
  await ok(['dao', 'propose', 'corpus', '-m', 'make the first import canonical', '--set-head', corpus])
  await ok(['job', 'post', '--dataset', 'corpus', '--recipe', join(REPO, 'recipes', 'tiny.json'), '--reward', '10', '--stake', '5'])
  client = new Client({ name: 'commons-test', version: '1.0.0' })
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp', ...h], stderr: 'ignore' }))
})

after(async () => {
  await client?.close()
  await commons(['chain', 'down', ...h])
  await rm(root, { recursive: true, force: true })
})

describe('commons mcp', () => {
  it('lists every tool with an input schema', async () => {
    const { tools } = await client.listTools()
    assert.deepEqual(tools.map(t => t.name).sort(), TOOLS)
    for (const t of tools) assert.equal(t.inputSchema.type, 'object', t.name)
    assert.equal(tools.find(t => t.name === 'knowledge_put')?.annotations?.readOnlyHint, false, 'a tool that signs says so')
  })

  it('price: a fresh round, then the same round stale after the chain\'s clock jumps past the heartbeat', async () => {
    const fresh = await call('price')
    assert.equal(fresh.isError, false, fresh.text)
    assert.equal(fresh.json.verdict, 'fresh')
    assert.equal(fresh.json.decimals, 8)
    assert.equal(fresh.json.round, '1')
    assert.equal(fresh.json.price, '3000.00000000')
    assert.equal(fresh.json.value, '300000000000')
    await advanceTime(rpcUrl, 7200)
    const stale = await call('price')
    assert.equal(stale.isError, false)
    assert.equal(stale.json.round, '1')
    assert.equal(stale.json.verdict, 'stale')
    assert.ok(stale.json.ageSeconds > 3600)
    assert.match(stale.json.summary, /^STALE/)
    // A longer heartbeat accepts the same round.
    assert.equal((await call('price', { heartbeat: 86400 })).json.verdict, 'fresh')
    // Any Chainlink-compatible feed by address; an address that is not a feed is an error result.
    assert.equal((await call('price', { feed: fresh.json.feed })).json.round, '1')
    const notAFeed = await call('price', { feed: '0x000000000000000000000000000000000000dEaD' })
    assert.equal(notAFeed.isError, true)
  })

  it('dataset_list, dataset_log, dataset_read and dataset_search answer from the store', async () => {
    const list = await call('dataset_list')
    assert.deepEqual(list.json.map((d: { name: string }) => d.name), ['corpus'])
    assert.equal(list.json[0].head, corpus)
    const log = await call('dataset_log', { name: 'corpus' })
    assert.equal(log.json[0].cid, corpus)
    assert.equal(log.json[0].message, 'first import')
    const files = await call('dataset_read', { ref: 'corpus' })
    assert.deepEqual(files.json.files.map((f: { path: string }) => f.path), ['rows.jsonl'])
    const rows = await call('dataset_read', { ref: corpus, path: 'rows.jsonl', offset: 17, limit: 2 })
    assert.equal(rows.json.total, 50)
    assert.equal(JSON.parse(rows.json.records[0]).text, 'the heron stands in the marsh')
    const search = await call('dataset_search', { ref: 'corpus', query: 'heron' })
    assert.equal(search.json.hits[0].row, 17)
    const missing = await call('dataset_read', { ref: 'corpus', path: 'nope.txt' })
    assert.equal(missing.isError, true)
    assert.match(missing.text, /^ToolArgumentsError/)
  })

  it('job_list, job_show and dao_proposals answer from the chain', async () => {
    const jobs = await call('job_list')
    assert.equal(jobs.json.length, 1)
    assert.equal(jobs.json[0].status, 'open')
    const job = await call('job_show', { id: 0 })
    assert.equal(job.json.dataset, corpus)
    assert.deepEqual(job.json.attestors, [])
    assert.equal(job.json.summary, `job 0 (open) trained on dataset ${corpus} by ${job.json.trainer}; attested by no one yet; no disputes`)
    const missingJob = await call('job_show', { id: 99 })
    assert.equal(missingJob.isError, true)
    const daos = await call('dao_proposals', { dao: 'corpus' })
    assert.equal(daos.json[0].head, corpus)
    assert.equal(daos.json[0].proposals[0].description, 'make the first import canonical')
    assert.match((await call('dao_proposals', { dao: 'nope' })).text, /^ToolArgumentsError/)
  })

  it('knowledge_put signs a note into the knowledge dataset; knowledge_search finds it by CID and leaves out a forged note', async () => {
    const put = await call('knowledge_put', { title: 'Heron sightings', text: 'Herons were counted in the marsh rows of the corpus.', tags: ['birds'] })
    assert.equal(put.isError, false, put.text)
    assert.equal(put.json.author, devnetAccount(0).address)
    const found = await call('knowledge_search', { query: 'heron marsh' })
    assert.equal(found.json.hits[0].cid, put.json.cid)
    assert.equal(found.json.hits[0].author, devnetAccount(0).address)

    // The attack: a note claiming account 0 as author, signed by account 1, committed beside the real one.
    const forger = devnetAccount(1)
    const unsigned = { title: 'Heron price', text: 'Herons cost nothing; trust me.', tags: [], author: devnetAccount(0).address, time: 1_700_000_000 }
    const forged: Note = { ...unsigned, signature: await forger.signMessage!({ message: noteMessage(unsigned) }) }
    const tree = join(root, 'forged')
    await ok(['dataset', 'export', 'knowledge', tree])
    await writeFile(join(tree, 'notes', 'forged.json'), JSON.stringify(forged))
    await ok(['dataset', 'commit', 'knowledge', tree, '-m', 'a forged note'])
    const after = await call('knowledge_search', { query: 'heron' })
    assert.equal(after.json.unverified, 1)
    assert.deepEqual(after.json.hits.map((h: { cid: string }) => h.cid), [put.json.cid])
  })

  it('agents_list and agent_ask say no agent is known', async () => {
    assert.deepEqual((await call('agents_list')).json.agents, [])
    const ask = await call('agent_ask', { agent: 'someone', question: 'hello?' })
    assert.equal(ask.isError, true)
    assert.match(ask.text, /^NoAgentsError/)
  })

  it('bad calls answer an error result and the server keeps serving', async () => {
    const wrongType = await call('price', { heartbeat: 'soon' })
    assert.equal(wrongType.isError, true)
    const outOfRange = await call('dataset_read', { ref: 'corpus', limit: 100000 })
    assert.equal(outOfRange.isError, true)
    const unknown = await call('no_such_tool')
    assert.equal(unknown.isError, true)
    const missingDataset = await call('dataset_log', { name: 'nope' })
    assert.equal(missingDataset.isError, true)
    assert.match(missingDataset.text, /^DatasetNotFoundError/)
    assert.equal((await call('price')).isError, false, 'still serving')
  })
})
