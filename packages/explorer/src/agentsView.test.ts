import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from '@commons/store'
import type { ExplorerContext } from './context.ts'
import { openHomeBlocks, type HomeBlocks } from './homeBlocks.ts'
import { listAgentViews } from './views/agents.ts'

/**
 * The agents page: the cards every node of the home has seen (`agent/agents.json`), one
 * row per peer, its newest sighting; a file being rewritten (not JSON) hides nothing else.
 */

let home: string
let content: HomeBlocks

const card = (peerId: string, name: string, seen: string) => ({
  peerId, address: '0x00000000000000000000000000000000000000AA', name, description: 'notes on datasets', skills: ['search'], multiaddrs: [], endpoints: ['http://127.0.0.1:9/a2a'], seen, card: {}
})

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-explorer-agents-'))
  for (const node of ['alice', 'bob', 'carol']) await openStore(join(home, 'nodes', node)).then(async s => s.close())
  const write = async (dir: string, text: string): Promise<void> => {
    await mkdir(join(dir, 'agent'), { recursive: true })
    await writeFile(join(dir, 'agent', 'agents.json'), text)
  }
  await write(join(home, 'nodes', 'alice'), JSON.stringify([card('peer-b', 'bob (old card)', '2026-01-01T00:00:00.000Z'), card('peer-c', 'carol', '2026-01-01T00:00:05.000Z')]))
  await write(join(home, 'nodes', 'bob'), JSON.stringify([card('peer-b', 'bob', '2026-01-01T00:01:00.000Z')]))
  await write(join(home, 'nodes', 'carol'), '[{"peerId": "half-writ')
  content = await openHomeBlocks(home)
})

after(async () => {
  await content?.close()
  await rm(home, { recursive: true, force: true })
})

describe('listAgentViews', () => {
  it('lists each peer once, from its newest card, saying which homes saw it', async () => {
    const agents = await listAgentViews({ content } as ExplorerContext)
    assert.deepEqual(agents.map(a => [a.peerId, a.name]), [['peer-b', 'bob'], ['peer-c', 'carol']])
    assert.equal(agents[0].seenBy.length, 2)
    assert.equal(agents[0].address, '0x00000000000000000000000000000000000000aa')
  })
})
