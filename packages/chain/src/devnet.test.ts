import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, http } from 'viem'
import { advanceTime, startDevnet } from './devnet.ts'

const homes: string[] = []
after(async () => { for (const home of homes) await rm(home, { recursive: true, force: true }) })

describe('devnet', () => {
  it('keeps time moving forward across a restart after the clock was advanced', async () => {
    const home = await mkdtemp(join(tmpdir(), 'commons-devnet-'))
    homes.push(home)
    const first = await startDevnet({ home, stateInterval: 1 })
    await advanceTime(first.rpcUrl, 7200)
    const before = await createPublicClient({ transport: http(first.rpcUrl) }).getBlock()
    await first.stop()
    const second = await startDevnet({ home })
    try {
      const client = createPublicClient({ transport: http(second.rpcUrl) })
      const [head, pending] = await Promise.all([client.getBlock(), client.getBlock({ blockTag: 'pending' })])
      assert.ok(head.number >= before.number, 'the state was reloaded')
      assert.ok(pending.timestamp >= head.timestamp, `the next block (${pending.timestamp}) is not older than the head (${head.timestamp})`)
    } finally {
      await second.stop()
    }
  })
})
