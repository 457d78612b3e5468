import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startNetwork, type NetworkNode } from '@commons/node'
import { until } from '@commons/node/testing/until'
import { openStore, type Store } from '@commons/store'
import { putNote } from '../knowledge/putNote.ts'
import { knowledgeAnswerer } from './answerers.ts'
import { startAgentCards, type AgentCards } from './agentCards.ts'
import { AGENT_CARDS_TOPIC, commonsCard, signCard } from './card.ts'
import { askAgent, serveTasks, type TaskState } from './taskProtocol.ts'
import { liveReach } from './reach.ts'
import { callTool } from '../callTool.ts'
import { toolContext } from '../context.ts'
import { commonsTools } from '../tools/index.ts'

const SKILLS = [{ id: 'knowledge', name: 'Shared notes', description: 'answers from notes', tags: ['notes'], examples: [] }]

let root: string
let stores: Store[] = []
let networks: NetworkNode[] = []
let cards: AgentCards[] = []
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-a2a-')) })
after(async () => {
  for (const c of cards) c.stop()
  await Promise.all(networks.map(async n => n.stop().catch(() => {})))
  await Promise.all(stores.map(async s => s.close()))
  await rm(root, { recursive: true, force: true })
})

/** A node on loopback with its own home, connected to `bootstrap`. */
async function node (name: string, bootstrap: string[] = []): Promise<{ network: NetworkNode, store: Store, cards: AgentCards, account: ReturnType<typeof privateKeyToAccount> }> {
  const store = await openStore(join(root, name))
  const network = await startNetwork({ blockstore: store.blocks, bootstrap })
  const account = privateKeyToAccount(generatePrivateKey())
  const c = startAgentCards({ network, account, card: commonsCard({ name, peerId: network.peerId, skills: SKILLS }), intervalMs: 200 })
  stores.push(store)
  networks.push(network)
  cards.push(c)
  return { network, store, cards: c, account }
}

describe('agents over libp2p', () => {
  let alice: Awaited<ReturnType<typeof node>>
  let bob: Awaited<ReturnType<typeof node>>
  before(async () => {
    alice = await node('alice')
    bob = await node('bob', alice.network.multiaddrs())
  })

  it('each node sees the other\'s signed card', async () => {
    await until('cards both ways', () => alice.cards.find('bob') !== undefined && bob.cards.find('alice') !== undefined, { timeoutMs: 20_000 })
    const seen = bob.cards.find(alice.network.peerId)
    assert.equal(seen?.name, 'alice')
    assert.equal(seen?.address, alice.account.address)
    assert.deepEqual(seen?.skills, ['knowledge'])
    assert.ok(seen?.endpoints[0]?.includes(alice.network.peerId))
  })

  it('a peer that joins later gets the cards at once, not at the next interval', async () => {
    // Cards published every 10 minutes: only the announcement to a newcomer can bring them in time.
    const slow = await startNetwork({ blockstore: alice.store.blocks })
    networks.push(slow)
    const carol = startAgentCards({ network: slow, account: privateKeyToAccount(generatePrivateKey()), card: commonsCard({ name: 'carol', peerId: slow.peerId, skills: SKILLS }), intervalMs: 600_000 })
    cards.push(carol)
    await new Promise(resolve => setTimeout(resolve, 500)) // its first card went out to nobody
    const dave = await startNetwork({ blockstore: bob.store.blocks, bootstrap: slow.multiaddrs() })
    networks.push(dave)
    const daveCards = startAgentCards({ network: dave, account: privateKeyToAccount(generatePrivateKey()), card: commonsCard({ name: 'dave', peerId: dave.peerId, skills: SKILLS }), intervalMs: 600_000 })
    cards.push(daveCards)
    await until('dave to see carol, and carol dave', () => daveCards.find('carol') !== undefined && carol.find('dave') !== undefined, { timeoutMs: 10_000 })
  })

  it('drops a forged card: another peer\'s id, or a signature not the address\'s', async () => {
    const mallory = await node('mallory', alice.network.multiaddrs())
    await until('mallory\'s card reaches alice', () => alice.cards.find('mallory') !== undefined, { timeoutMs: 20_000 })
    const before = alice.cards.dropped
    const card = commonsCard({ name: 'bob', peerId: bob.network.peerId, skills: SKILLS })
    // Mallory's own account signs a card that claims bob's peer id.
    const impersonation = await signCard(mallory.account, { card, peerId: bob.network.peerId, multiaddrs: mallory.network.multiaddrs() })
    // A card from mallory's peer that names alice's address but is signed by mallory.
    const own = await signCard(mallory.account, { card: commonsCard({ name: 'not-alice', peerId: mallory.network.peerId, skills: SKILLS }), peerId: mallory.network.peerId, multiaddrs: [] })
    const stolenAddress = { ...own, address: alice.account.address }
    await mallory.network.publish(AGENT_CARDS_TOPIC, impersonation)
    await mallory.network.publish(AGENT_CARDS_TOPIC, stolenAddress)
    await until('both forged cards dropped', () => alice.cards.dropped >= before + 2, { timeoutMs: 10_000 })
    assert.deepEqual(alice.cards.list().find(a => a.peerId === bob.network.peerId)?.multiaddrs, bob.network.multiaddrs())
    assert.equal(alice.cards.find('not-alice'), undefined)
  })

  it('asks the other node\'s agent a task that streams, completes and cites a note by CID', async () => {
    const put = await putNote(alice.store, alice.account, { title: 'Bridge height', text: 'The old bridge is 42 metres high.', tags: ['bridge'] })
    await serveTasks(alice.network, knowledgeAnswerer(async () => alice.store))
    const states: TaskState[] = []
    let streamed = ''
    const result = await askAgent(bob.network, alice.network.peerId, 'how high is the bridge?', { onState: s => states.push(s), onText: t => { streamed += t } })
    assert.equal(result.state, 'completed')
    assert.deepEqual(result.states, ['submitted', 'working', 'completed'])
    assert.deepEqual(states, result.states)
    assert.deepEqual(result.cites, [put.cid])
    assert.match(result.text, /42 metres/)
    assert.equal(streamed, result.text)
  })

  it('agents_list and agent_ask reach the other agent; an unknown one is NoAgentsError', async () => {
    const ctx = toolContext({
      openStore: async () => bob.store,
      connectChain: async () => { throw new Error('no chain in this test') },
      signer: async () => bob.account,
      agents: async () => liveReach(bob.network, bob.cards)
    })
    const listed = await callTool(commonsTools, ctx, 'agents_list', {})
    assert.ok((listed.value as { agents: Array<{ name: string }> }).agents.some(a => a.name === 'alice'))
    const asked = await callTool(commonsTools, ctx, 'agent_ask', { agent: 'alice', question: 'bridge height' })
    assert.equal(asked.isError, false, asked.text)
    assert.match((asked.value as { answer: string }).answer, /42 metres/)
    assert.equal((asked.value as { cites: string[] }).cites.length, 1)
    const unknown = await callTool(commonsTools, ctx, 'agent_ask', { agent: 'nobody', question: 'hello?' })
    assert.equal(unknown.error, 'NoAgentsError')
  })

  it('goes through input-required and back, and can be canceled there', async () => {
    const bobAnswers = async (): Promise<void> => {
      await serveTasks(bob.network, async (question, io) => {
        const which = await io.requestInput(`which ${question}?`)
        io.onText(`you chose ${which}`)
        return { text: `you chose ${which}`, cites: [] }
      })
    }
    await bobAnswers()
    const answered = await askAgent(alice.network, bob.network.peerId, 'colour', { onInputRequired: async prompt => prompt === 'which colour?' ? 'green' : 'wrong prompt' })
    assert.deepEqual(answered.states, ['submitted', 'working', 'input-required', 'working', 'completed'])
    assert.equal(answered.text, 'you chose green')
    const canceled = await askAgent(alice.network, bob.network.peerId, 'colour')
    assert.equal(canceled.state, 'canceled')
    assert.deepEqual(canceled.states, ['submitted', 'working', 'input-required', 'canceled'])
  })

  it('a task the agent fails ends failed with the error\'s name', async () => {
    const carol = await node('carol', alice.network.multiaddrs())
    await serveTasks(carol.network, async () => { throw new RangeError('no such thing') })
    await assert.rejects(askAgent(alice.network, carol.network.multiaddrs()[0]!, 'anything'), (e: Error & { details?: { error?: string } }) => e.name === 'AgentTaskError' && e.details?.error === 'RangeError')
  })

  it('a dead peer gives AgentUnreachableError', async () => {
    const dave = await node('dave')
    const address = dave.network.multiaddrs()[0]!
    await dave.network.stop()
    await assert.rejects(askAgent(alice.network, address, 'are you there?'), { name: 'AgentUnreachableError' })
  })
})
