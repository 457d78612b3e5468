import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWalletClient, http } from 'viem'
import { connect, devnetAccount, startDevnet, type Clients, type Devnet } from '@commons/chain'
import { lookAtHeldSend, type HeldSend } from './heldSends.ts'

/**
 * What became of a send held back, on a real anvil whose mining is off: still in the
 * pool, replaced by a transaction the caller never heard of (its nonce held), mined, and
 * dropped with its nonce free. Only 'gone' lets a caller send the move anew.
 */

let home: string
let devnet: Devnet
let clients: Clients
const rpc = async (method: string, params: unknown[] = []): Promise<unknown> => clients.public.request({ method, params } as never)

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-held-'))
  devnet = await startDevnet({ home })
  clients = await connect(devnet.rpcUrl, devnetAccount(3))
})

after(async () => {
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

describe('a held send, looked at again', () => {
  it('is pending in the pool, its nonce held by a copy never heard of, landed once mined, gone once dropped', async () => {
    const account = devnetAccount(3)
    const bare = createWalletClient({ chain: clients.public.chain, transport: http(devnet.rpcUrl), account })
    const to = devnetAccount(8).address
    const copies: HeldSend[] = []
    const look = async (held: HeldSend): Promise<string> => lookAtHeldSend(clients, held, { onCopy: next => { copies.push(next) }, log: () => {} })
    const nonce = await clients.public.getTransactionCount({ address: account.address })
    const fees = await clients.public.estimateFeesPerGas()
    await rpc('evm_setAutomine', [false])
    try {
      const first = await bare.sendTransaction({ to, value: 1n, nonce, ...fees })
      assert.equal(await look({ hashes: [first], nonce }), 'pending')
      assert.deepEqual(copies, [], 'priced for a block: not sent again')

      // Its copy at a higher fee, sent where the caller never learnt its hash (a lost answer).
      const unheard = await bare.sendTransaction({ to, value: 1n, nonce, maxFeePerGas: fees.maxFeePerGas * 2n, maxPriorityFeePerGas: fees.maxPriorityFeePerGas * 2n })
      assert.equal(await look({ hashes: [first], nonce }), 'nonce held', 'the first is unknown, but its nonce is taken in the pool')
      assert.equal(await look({ hashes: [first] }), 'gone', 'without the nonce nothing tells it from a dropped send')

      await rpc('evm_mine')
      assert.equal(await look({ hashes: [first, unheard], nonce }), 'landed')

      const dropped = await bare.sendTransaction({ to, value: 1n, nonce: nonce + 1, ...fees })
      await rpc('anvil_dropAllTransactions')
      assert.equal(await look({ hashes: [dropped], nonce: nonce + 1 }), 'gone', 'dropped, its nonce free: it may be sent anew')
      assert.deepEqual(copies, [])
    } finally {
      await rpc('evm_setAutomine', [true])
    }
  })
})
