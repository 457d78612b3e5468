import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { commitVersion, initDataset, listDatasets, openStore } from '@commons/store'
import {
  commonsAgentTools, commonsTools, connectMcpServers, narrowArguments, openAgent, toolContext, type Agent, type AgentAnswer, type Dialogue, type McpClientTools, type ToolContext
} from '@commons/agent'
import { ChainUnreachableError, devnetAccount } from '@commons/chain'
import { trainAgentModel } from '@commons/agent/testing/agentModel'
import { commons, errorName } from './testing.ts'

/**
 * The agent's plumbing with real parts: a GGUF model trained and exported by Commons
 * (taught the tool calls below, since a model this small does not choose tools by
 * itself), node-llama-cpp's function calling, the node's tools on a real store, and an
 * external MCP server over stdio. What is checked is that the calls the model makes are
 * executed and answered, not the quality of its prose.
 */

const ECHO_SERVER = fileURLToPath(new URL('../../agent/src/testing/echoMcpServer.ts', import.meta.url))
const TOOLS = ['dataset_list', 'dataset_log', 'knowledge_put', 'tests_echo', 'tests_crash']
const DIALOGUES: Dialogue[] = [
  { tools: TOOLS, question: 'Which datasets are here?', call: { name: 'dataset_list', params: {} }, result: [{ name: 'corpus', head: 'bafy', forkOf: null }], answer: 'The datasets are listed above.' },
  { tools: TOOLS, question: 'Show the log of the dataset nope.', call: { name: 'dataset_log', params: { name: 'nope', limit: null } }, result: 'DatasetNotFoundError', answer: 'That dataset does not exist.' },
  { tools: TOOLS, question: 'Echo hello through the test server.', call: { name: 'tests_echo', params: { text: 'hello' } }, result: 'echo: hello', answer: 'It echoed hello.' },
  { tools: TOOLS, question: 'Save a note that herons nest in March.', call: { name: 'knowledge_put', params: { title: 'Herons', text: 'Herons nest in March.', tags: null } }, result: { cid: 'bafy' }, answer: 'I saved it.' },
  { tools: TOOLS, question: 'Crash the test server now.', call: { name: 'tests_crash', params: { text: 'now' } }, result: 'McpServerError', answer: 'The server is gone.' }
]

let root: string
let home: string
let modelPath: string
let head: string

/** The agent on `home` with the node's tools and the test server, as the CLI builds it. */
async function agentOn (confirm: () => Promise<boolean>): Promise<{ agent: Agent, external: McpClientTools, ctx: ToolContext }> {
  const ctx = toolContext({
    openStore: async () => openStore(home),
    connectChain: async () => { throw new ChainUnreachableError('no chain in this test') },
    signer: async () => devnetAccount(0) as never
  })
  const external = await connectMcpServers({ tests: { command: process.execPath, args: [ECHO_SERVER] } })
  // The strings the questions name, narrowed to them: a model this small does not copy text
  // from a question, and the grammar then writes them (the plumbing is what is tested).
  const tools = narrowArguments([...commonsAgentTools(commonsTools, ctx), ...external.tools].filter(t => TOOLS.includes(t.name)), {
    dataset_log: { name: ['nope'] }, tests_echo: { text: ['hello'] }, tests_crash: { text: ['now'] },
    knowledge_put: { title: ['Herons'], text: ['Herons nest in March.'] }
  })
  // In the order the model was trained with: the prompt lists them so.
  tools.sort((a, b) => TOOLS.indexOf(a.name) - TOOLS.indexOf(b.name))
  const agent = await openAgent({ modelPath, tools, gpu: false, maxTokens: 120, confirm: async () => confirm() })
  return { agent, external, ctx }
}

async function fresh (agent: Agent, question: string): Promise<AgentAnswer> {
  agent.reset()
  return agent.ask(question)
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-agent-'))
  home = join(root, 'home')
  modelPath = await trainAgentModel(join(root, 'model'), DIALOGUES, 300) // 150 steps already pass: twice that for a margin
  const data = join(root, 'data')
  await mkdir(data)
  await writeFile(join(data, 'rows.jsonl'), '{"id": 1, "text": "a heron"}\n')
  const store = await openStore(home)
  try {
    await initDataset(store, 'corpus')
    head = (await commitVersion(store, { name: 'corpus', path: data, message: 'first', author: 'test', time: 1_700_000_000 })).cid.toString()
  } finally {
    await store.close()
  }
})

after(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('commons agent', () => {
  it('refuses a model file that is not GGUF, and a missing one, with ModelFileError', async () => {
    const notGguf = join(root, 'notes.txt')
    await writeFile(notGguf, 'not a model')
    await assert.rejects(openAgent({ modelPath: notGguf, tools: [] }), { name: 'ModelFileError' })
    await assert.rejects(openAgent({ modelPath: join(root, 'missing.gguf'), tools: [] }), { name: 'ModelFileError' })
    const run = await commons(['agent', 'ask', 'hello', '--model', notGguf, '--json', '--home', home])
    assert.equal(run.code, 1)
    assert.equal(errorName(run), 'ModelFileError')
  })

  it('executes the calls the model makes: a result, a tool error as text, an external MCP tool, a declined signing tool, a crashed server', async () => {
    let asked = 0
    const { agent, external, ctx } = await agentOn(async () => { asked++; return false })
    try {
      const listed = await fresh(agent, 'Which datasets are here?')
      assert.equal(listed.toolCalls[0]?.name, 'dataset_list')
      assert.deepEqual(listed.toolCalls[0]?.result, [{ name: 'corpus', head, forkOf: null }])
      assert.ok(listed.tokens.output > 0)

      const missing = await fresh(agent, 'Show the log of the dataset nope.')
      assert.equal(missing.toolCalls[0]?.name, 'dataset_log')
      assert.deepEqual(missing.toolCalls[0]?.arguments, { name: 'nope' }, 'the null standing for a left-out argument is dropped')
      assert.equal(missing.toolCalls[0]?.isError, true)
      assert.match(String((missing.toolCalls[0]?.result as { error: string }).error), /^DatasetNotFoundError/)
      assert.equal(typeof missing.answer, 'string', 'the model answered after the error')

      const echoed = await fresh(agent, 'Echo hello through the test server.')
      assert.equal(echoed.toolCalls[0]?.name, 'tests_echo')
      assert.equal(echoed.toolCalls[0]?.result, 'echo: hello')

      const note = await fresh(agent, 'Save a note that herons nest in March.')
      assert.equal(note.toolCalls[0]?.name, 'knowledge_put')
      assert.equal(note.toolCalls[0]?.isError, true)
      assert.equal(asked, 1, 'the user was asked before a signing tool ran')
      const store = await ctx.store()
      assert.deepEqual((await listDatasets(store)).map(d => d.name), ['corpus'], 'declined: nothing was signed or written')

      const crashed = await fresh(agent, 'Crash the test server now.')
      assert.equal(crashed.toolCalls[0]?.name, 'tests_crash')
      assert.match(String((crashed.toolCalls[0]?.result as { error: string }).error), /^McpServerError/)
      const afterCrash = await fresh(agent, 'Echo hello through the test server.')
      assert.match(String((afterCrash.toolCalls[0]?.result as { error: string }).error), /^McpServerError/, 'a dead server answers with an error')
      assert.equal((await fresh(agent, 'Which datasets are here?')).toolCalls[0]?.isError, false, 'the agent keeps running')
    } finally {
      await agent.close()
      await external.close()
      await ctx.close()
    }
  })

  it('commons agent ask --json prints {answer, toolCalls, model, tokens} and saves the conversation', async () => {
    await writeFile(join(home, 'settings.json'), JSON.stringify({ model: modelPath, mcpServers: { tests: { command: process.execPath, args: [ECHO_SERVER] } } }))
    const run = await commons(['agent', 'ask', 'Which datasets are here?', '--json', '--max-tokens', '120', '--home', home])
    assert.equal(run.code, 0, run.stderr)
    const out = JSON.parse(run.stdout) as { answer: string, toolCalls: Array<{ name: string, arguments: unknown, result: unknown }>, model: string, tokens: { input: number, output: number }, conversation: number }
    assert.equal(out.model, 'agent-test')
    assert.equal(typeof out.answer, 'string')
    assert.ok(out.tokens.output > 0)
    // Every tool is offered here, not the five the model was trained with: its call may
    // differ, but each one it makes is reported with its arguments and result.
    for (const c of out.toolCalls) assert.deepEqual(Object.keys(c), ['name', 'arguments', 'result'])
    const history = await commons(['agent', 'history', '--json', '--home', home])
    const list = JSON.parse(history.stdout) as Array<{ id: number, turns: number, title: string }>
    assert.deepEqual(list.map(c => [c.id, c.turns, c.title]), [[out.conversation, 2, 'Which datasets are here?']])
  })
})
