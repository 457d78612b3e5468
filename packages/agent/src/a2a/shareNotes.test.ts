import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startNetwork, type NetworkNode } from '@commons/node'
import { until } from '@commons/node/testing/until'
import { openStore, type Store } from '@commons/store'
import { commitNoteFiles } from '../knowledge/commitNotes.ts'
import { notePath, signNote } from '../knowledge/note.ts'
import { noteFileText, putNote } from '../knowledge/putNote.ts'
import { searchNotes } from '../knowledge/searchNotes.ts'
import { knowledgeAnswerer } from './answerers.ts'
import { shareNotes, type NoteSharing } from './shareNotes.ts'

describe('notes announced by CID, fetched, verified and indexed by peers', () => {
  let root: string
  const stores: Store[] = []
  const networks: NetworkNode[] = []
  const sharings: NoteSharing[] = []
  const node = async (name: string, bootstrap: string[] = []): Promise<{ store: Store, network: NetworkNode }> => {
    const store = await openStore(join(root, name))
    const network = await startNetwork({ blockstore: store.blocks, bootstrap })
    stores.push(store)
    networks.push(network)
    return { store, network }
  }
  before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-share-')) })
  after(async () => {
    for (const s of sharings) s.stop()
    // Mallory and alice take in each other's notes too: let that finish before the homes go.
    await Promise.all(sharings.map(async s => s.idle()))
    await Promise.all(networks.map(async n => n.stop()))
    await Promise.all(stores.map(async s => s.close()))
    await rm(root, { recursive: true, force: true })
  })

  it('a peer takes in a signed note under its CID and refuses a forged one; its answers cite the CID', async () => {
    const alice = await node('alice')
    const mallory = await node('mallory', alice.network.multiaddrs())
    const bob = await node('bob', alice.network.multiaddrs())
    const put = await putNote(alice.store, privateKeyToAccount(generatePrivateKey()), { title: 'Ferry times', text: 'The ferry to the island leaves at 07:45 and 16:20.', tags: ['ferry'] })
    // Mallory holds a note whose text was changed after its author signed it.
    const signed = await signNote(privateKeyToAccount(generatePrivateKey()), { title: 'Ferry times', text: 'The ferry is cancelled today.', tags: ['ferry'], time: 1_700_000_000 })
    const forged = { ...signed, text: 'The ferry is cancelled for good.' }
    await commitNoteFiles(mallory.store, [{ path: notePath(forged), bytes: noteFileText(forged) }], { message: 'forged', author: forged.author, time: forged.time })

    const forBob = shareNotes({ network: bob.network, store: bob.store, intervalMs: 300 })
    sharings.push(forBob, shareNotes({ network: alice.network, store: alice.store, intervalMs: 300 }), shareNotes({ network: mallory.network, store: mallory.store, intervalMs: 300 }))
    await until('bob takes alice\'s note and refuses mallory\'s', () => forBob.received >= 1 && forBob.refused >= 1, { timeoutMs: 30_000 })
    await forBob.idle()

    const found = await searchNotes(bob.store, 'ferry', 10)
    assert.deepEqual(found.hits.map(h => h.cid), [put.cid])
    assert.equal(found.unverified, 0)
    const answered = await knowledgeAnswerer(async () => bob.store)('when does the ferry leave?', { onText: () => {}, requestInput: async () => '', signal: new AbortController().signal })
    assert.deepEqual(answered.cites, [put.cid])
    assert.match(answered.text, /07:45/)
  })
})
