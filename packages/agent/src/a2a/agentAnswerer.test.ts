import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startNetwork, type NetworkNode } from '@commons/node'
import { openStore, type Store } from '@commons/store'
import { commonsAgentTools } from '../agent/agentTool.ts'
import { openAgent, type Agent } from '../agent/openAgent.ts'
import { toolContext } from '../context.ts'
import type { Dialogue } from '../dialogues/renderDialogue.ts'
import { putNote } from '../knowledge/putNote.ts'
import { trainAgentModel } from '../testing/agentModel.ts'
import { commonsTools } from '../tools/index.ts'
import { agentAnswerer } from './answerers.ts'
import { askAgent, serveTasks } from './taskProtocol.ts'

/**
 * Another node's agent answering with a real GGUF exported by Commons (taught to search
 * the notes for this question: a model this small does not choose tools by itself): the
 * task goes over libp2p, the model calls knowledge_search, and the answer cites the
 * note's CID.
 */
const TOOLS = ['dataset_list', 'knowledge_search']
const DIALOGUES: Dialogue[] = [
  { tools: TOOLS, question: 'Which datasets are here?', call: { name: 'dataset_list', params: {} }, result: [], answer: 'There are none.' },
  { tools: TOOLS, question: 'What do the notes say about the ferry?', call: { name: 'knowledge_search', params: { query: 'ferry', limit: null } }, result: { hits: [{ cid: 'bafy' }] }, answer: 'The note on the ferry is cited.' }
]

describe('an agent with a model answers a task over libp2p', () => {
  let root: string
  let store: Store
  let agent: Agent
  const networks: NetworkNode[] = []
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'commons-a2a-model-'))
    const modelPath = await trainAgentModel(join(root, 'model'), DIALOGUES, 300) // 150 steps already pass: twice that for a margin
    store = await openStore(join(root, 'home'))
    const ctx = toolContext({ openStore: async () => store, connectChain: async () => { throw new Error('no chain in this test') }, signer: async () => privateKeyToAccount(generatePrivateKey()) })
    agent = await openAgent({ modelPath, tools: commonsAgentTools(commonsTools, ctx).filter(t => TOOLS.includes(t.name)).sort((a, b) => TOOLS.indexOf(a.name) - TOOLS.indexOf(b.name)), gpu: false, maxTokens: 200 }) // byte-level: the call alone is ~50 tokens
  })
  after(async () => {
    await Promise.all(networks.map(async n => n.stop()))
    await agent?.close()
    await store?.close()
    await rm(root, { recursive: true, force: true })
  })

  it('the model searches the notes and the answer cites the note by CID', async () => {
    const put = await putNote(store, privateKeyToAccount(generatePrivateKey()), { title: 'Ferry times', text: 'The ferry leaves at 07:45.', tags: ['ferry'] })
    const alice = await startNetwork({ blockstore: store.blocks })
    networks.push(alice)
    const bob = await startNetwork({ blockstore: store.blocks })
    networks.push(bob)
    await serveTasks(alice, agentAnswerer(agent))
    let streamed = ''
    const result = await askAgent(bob, alice.multiaddrs()[0]!, 'What do the notes say about the ferry?', { onText: t => { streamed += t } })
    assert.equal(result.state, 'completed')
    assert.equal(streamed, result.text, 'the model\'s text streamed as it was written')
    assert.deepEqual(result.cites, [put.cid])
  })
})
