import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, http } from 'viem'
import { advanceTime, startDevnet } from './devnet.ts'
import { connect, devnetAccount } from './clients.ts'

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

  it('gives two devnets started at once their own genesis, so sends to the second are not given the first one\'s nonces', { timeout: 60_000 }, async () => {
    const started = await Promise.all([0, 1].map(async () => {
      const home = await mkdtemp(join(tmpdir(), 'commons-devnet-'))
      homes.push(home)
      return startDevnet({ home })
    }))
    try {
      const [a, b] = await Promise.all(started.map(async devnet => connect(devnet.rpcUrl, devnetAccount(0))))
      const genesis = await Promise.all([a, b].map(async c => (await c.public.getBlock({ blockNumber: 0n })).hash))
      assert.notEqual(genesis[0], genesis[1])
      const to = devnetAccount(1).address
      for (let i = 0; i < 3; i++) await a.public.waitForTransactionReceipt({ hash: await a.wallet.sendTransaction({ to, value: 1n }) })
      // The first chain's account is at nonce 3; on the second it is at 0, and its send is mined.
      const hash = await b.wallet.sendTransaction({ to, value: 1n })
      const receipt = await b.public.waitForTransactionReceipt({ hash, timeout: 20_000 })
      assert.equal(receipt.status, 'success')
      assert.equal(await b.public.getTransactionCount({ address: b.account.address }), 1)
    } finally {
      await Promise.all(started.map(async devnet => devnet.stop()))
    }
  })
})
