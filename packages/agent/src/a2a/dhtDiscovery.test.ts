import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startNetwork, type NetworkNode } from '@commons/node'
import { until } from '@commons/node/testing/until'
import { openStore, type Store } from '@commons/store'
import { putNote } from '../knowledge/putNote.ts'
import { agentsKeyBlock, agentsKeyCid, CARD_PROTOCOL } from './dhtDiscovery.ts'
import { startA2a, type A2aNode } from './startA2a.ts'

/**
 * Agents found through kad-dht with no registry and no gossip between them: alice and
 * carol each know only bob, a plain DHT node that runs no agent (so no cards topic joins
 * them). Alice provides the agents key; carol finds her among its providers, fetches her
 * signed card from her, and asks her a task whose answer cites alice's note by CID. A
 * provider that serves a card that is not its own (a replay of alice's) is refused.
 */

let root: string
const stores: Store[] = []
const networks: NetworkNode[] = []
const agents: A2aNode[] = []
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-dht-agents-')) })
after(async () => {
  for (const a of agents) await a.stop().catch(() => {})
  await Promise.all(networks.map(async n => n.stop().catch(() => {})))
  await Promise.all(stores.map(async s => s.close()))
  await rm(root, { recursive: true, force: true })
})

async function peer (name: string, bootstrap: string[]): Promise<{ network: NetworkNode, store: Store }> {
  const store = await openStore(join(root, name))
  const network = await startNetwork({ blockstore: store.blocks, bootstrap })
  stores.push(store)
  networks.push(network)
  return { network, store }
}

/** An agent whose card goes out on gossip only at start (a long interval): what it is found by is the DHT. */
async function agent (name: string, bootstrap: string[]): Promise<A2aNode & { network: NetworkNode, store: Store }> {
  const p = await peer(name, bootstrap)
  const a2a = await startA2a({ network: p.network, store: p.store, account: privateKeyToAccount(generatePrivateKey()), name, intervalMs: 600_000, shareKnowledge: false })
  agents.push(a2a)
  return { ...a2a, ...p }
}

describe('agents found through the DHT', () => {
  it('a node that shares no gossip with an agent finds it by the agents key, checks its card and asks it a task', { timeout: 120_000 }, async () => {
    const bob = await peer('bob', [])
    const alice = await agent('alice', bob.network.multiaddrs())
    const carol = await agent('carol', bob.network.multiaddrs())
    await until('alice and carol to reach bob', () => alice.network.peers().includes(bob.network.peerId) && carol.network.peers().includes(bob.network.peerId), { timeoutMs: 20_000 })
    assert.ok(!carol.network.peers().includes(alice.network.peerId), 'carol has no connection to alice to gossip over')
    assert.equal(carol.cards.find('alice'), undefined)
    const put = await putNote(alice.store, privateKeyToAccount(generatePrivateKey()), { title: 'Tides', text: 'High tide at the harbour is at 06:10.', tags: ['tide'] })

    await until('alice to provide the agents key', async () => alice.discovery!.provide(), { timeoutMs: 20_000 })
    const found = await carol.discovery!.lookup()
    const seen = carol.cards.find('alice')
    // Found through the DHT: by the look-up's own card fetch (it lists only the peers whose
    // fetched card it kept), or, when the DHT walks opened a connection between them first,
    // by gossip over it (a peer new to the cards topic is sent the card at once). No other
    // path joins them here. Gossip may also arrive after the fetch and refresh the card, so
    // `via` names the last path, not the first.
    assert.ok(found.includes(alice.network.peerId) || seen?.via === 'gossip', `found ${JSON.stringify(found)}, card via ${seen?.via}`)
    assert.equal(seen?.peerId, alice.network.peerId)

    const answer = await carol.reach.ask('alice', 'when is high tide?')
    assert.equal(answer.state, 'completed')
    assert.deepEqual(answer.cites, [put.cid])
  })

  it('a provider that serves a card not its own (a replay of another agent\'s) is refused', { timeout: 120_000 }, async () => {
    const hub = await peer('hub', [])
    const honest = await agent('honest', hub.network.multiaddrs())
    const seeker = await agent('seeker', hub.network.multiaddrs())
    const liar = await peer('liar', hub.network.multiaddrs())
    const replayed = await honest.cards.signed()
    const key = await agentsKeyCid()
    await liar.store.blocks.put(key, agentsKeyBlock)
    await liar.network.handle(CARD_PROTOCOL, async (stream: Stream) => {
      await lpStream(stream).write(new TextEncoder().encode(JSON.stringify(replayed)))
      await stream.close()
    })
    await until('the liar and the honest agent to provide the key', async () => (await honest.discovery!.provide()) && await liar.network.provide(key).then(() => true, () => false), { timeoutMs: 20_000 })
    const dropped = seeker.cards.dropped
    await until('the seeker to find the honest agent', async () => (await seeker.discovery!.lookup(), seeker.cards.find('honest') !== undefined), { timeoutMs: 30_000 })
    await until('the liar\'s card to be refused', async () => (await seeker.discovery!.lookup(), seeker.cards.dropped > dropped), { timeoutMs: 30_000 })
    assert.equal(seeker.cards.find('honest')?.peerId, honest.network.peerId, 'the card is kept under the peer it names, never the liar')
    assert.ok(seeker.cards.list().every(a => a.peerId !== liar.network.peerId))
  })
})
