import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { Role, TaskState, type Message, type Task } from '@a2a-js/sdk'
import { ClientFactory } from '@a2a-js/sdk/client'
import { openStore, type Store } from '@commons/store'
import { putNote } from '../knowledge/putNote.ts'
import { knowledgeAnswerer } from './answerers.ts'
import { commonsCard } from './card.ts'
import { startA2aHttp, type A2aHttp } from './httpBinding.ts'

const question = (text: string): Message => ({
  messageId: randomUUID(), contextId: '', taskId: '', role: Role.ROLE_USER, metadata: undefined, extensions: [], referenceTaskIds: [],
  parts: [{ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' }]
})

describe('A2A HTTP binding, called by the official SDK\'s client', () => {
  let root: string
  let store: Store
  let http: A2aHttp
  let cid: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'commons-a2a-http-'))
    store = await openStore(root)
    cid = (await putNote(store, privateKeyToAccount(generatePrivateKey()), { title: 'Tide', text: 'High tide at the harbour is at 06:10.', tags: ['tide'] })).cid
    http = await startA2aHttp({ answer: knowledgeAnswerer(async () => store), card: commonsCard({ name: 'harbour', peerId: '12D3KooWtest', skills: [{ id: 'knowledge', name: 'Shared notes', description: 'answers from notes', tags: [], examples: [] }] }) })
  })
  after(async () => {
    await http.close()
    await store.close()
    await rm(root, { recursive: true, force: true })
  })

  it('serves the agent card at the well-known path', async () => {
    const client = await new ClientFactory().createFromUrl(http.origin)
    const card = await client.getAgentCard()
    assert.equal(card.name, 'harbour')
    assert.equal(card.supportedInterfaces[0]?.url, http.url)
    assert.equal(card.capabilities?.streaming, true)
  })

  it('answers a message as a completed task that cites the note by CID', async () => {
    const client = await new ClientFactory().createFromUrl(http.origin)
    const result = await client.sendMessage({ tenant: '', message: question('when is high tide?'), configuration: undefined, metadata: undefined })
    const task = result as Task
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED)
    assert.deepEqual(task.status?.message?.metadata?.cites, [cid])
    const text = task.status?.message?.parts[0]?.content
    assert.ok(text?.$case === 'text' && text.value.includes('06:10'))
  })

  it('streams submitted, working, the answer, completed', async () => {
    const client = await new ClientFactory().createFromUrl(http.origin)
    const seen: string[] = []
    let streamed = ''
    for await (const event of client.sendMessageStream({ tenant: '', message: question('high tide harbour'), configuration: undefined, metadata: undefined })) {
      const p = event.payload
      if (p?.$case === 'task') seen.push(`task:${p.value.status?.state}`)
      else if (p?.$case === 'statusUpdate') seen.push(`status:${p.value.status?.state}`)
      else if (p?.$case === 'artifactUpdate') {
        seen.push('artifact')
        for (const part of p.value.artifact?.parts ?? []) if (part.content?.$case === 'text') streamed += part.content.value
      }
    }
    assert.deepEqual(seen.filter((s, i) => s !== seen[i - 1]), [`task:${TaskState.TASK_STATE_SUBMITTED}`, `status:${TaskState.TASK_STATE_WORKING}`, 'artifact', `status:${TaskState.TASK_STATE_COMPLETED}`])
    assert.match(streamed, new RegExp(cid))
  })
})
