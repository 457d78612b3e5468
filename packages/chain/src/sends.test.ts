import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWalletClient, http, parseEther } from 'viem'
import {
  blockTimeMs, commonsTokenAbi, connect, receiptTimeoutMs, repriceWaiting, transactionOutcome, transactionsOutcome, TransactionNotMinedError, deploy, devnetAccount, mineBlocks, PUBLIC_CONFIRMATIONS, settingsFor, startDevnet, startHardhat, tokenBalance, transferTokens, waitForReceipt,
  type Clients, type Deployment, type Devnet
} from './index.ts'
import { startRateLimitProxy, type RateLimitProxy } from './testing/rateLimitProxy.ts'

/**
 * Sends as a public chain needs them, on a real anvil: many at once from one account,
 * EIP-1559 fees, a provider that refuses requests for their rate, confirmations past
 * the mining block, and polling no faster than the chain's blocks.
 */

let home: string
let devnet: Devnet
let clients: Clients
let deployment: Deployment
let proxy: RateLimitProxy

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-sends-'))
  devnet = await startDevnet({ home })
  clients = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = await deploy(clients)
  proxy = await startRateLimitProxy(devnet.rpcUrl)
})

after(async () => {
  await proxy?.close()
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

describe('sends from one account at once', () => {
  it('without a nonce manager, concurrent sends race for the pending nonce and some are refused (the failure)', async () => {
    const bare = createWalletClient({ chain: clients.public.chain, transport: http(devnet.rpcUrl, { retryCount: 0 }), account: devnetAccount(3) })
    const results = await Promise.allSettled(Array.from({ length: 8 }, async () => bare.sendTransaction({ to: devnetAccount(4).address, value: 1n })))
    assert.ok(results.some(r => r.status === 'rejected'), 'at least one send reused a nonce')
  })

  it('20 contract calls sent at once through two connections of one account all land, with consecutive nonces', async () => {
    const second = await connect(devnet.rpcUrl, devnetAccount(0))
    const to = devnetAccount(7).address
    const start = await clients.public.getTransactionCount({ address: clients.account.address })
    const receipts = await Promise.all(Array.from({ length: 20 }, async (_, i) => transferTokens(i % 2 === 0 ? clients : second, deployment, to, BigInt(i + 1))))
    assert.ok(receipts.every(r => r.status === 'success'))
    const nonces = (await Promise.all(receipts.map(async r => (await clients.public.getTransaction({ hash: r.transactionHash })).nonce))).sort((a, b) => a - b)
    assert.deepEqual(nonces, Array.from({ length: 20 }, (_, i) => start + i))
    assert.equal(await tokenBalance(clients, deployment, to), 210n)
  })

  it('sends EIP-1559 transactions whose fee cap leaves room for the base fee to double', async () => {
    const receipt = await transferTokens(clients, deployment, devnetAccount(7).address, 1n)
    const tx = await clients.public.getTransaction({ hash: receipt.transactionHash })
    const block = await clients.public.getBlock({ blockNumber: receipt.blockNumber })
    assert.equal(tx.type, 'eip1559')
    assert.ok(tx.maxFeePerGas !== undefined && block.baseFeePerGas !== null && tx.maxFeePerGas >= 2n * block.baseFeePerGas, `cap ${tx.maxFeePerGas} over base fee ${block.baseFeePerGas}`)
  })
})

describe('a transaction that is not mined', () => {
  it('waits three minutes on a devnet, thirty block times on a slower chain', () => {
    assert.equal(receiptTimeoutMs({ pollingMs: 50 }), 180_000)
    assert.equal(receiptTimeoutMs({ pollingMs: 12_000 }), 360_000)
  })

  it('behind a nonce no transaction holds is named as a gap, with the nonce it waits for', async () => {
    const account = devnetAccount(5)
    const bare = createWalletClient({ chain: clients.public.chain, transport: http(devnet.rpcUrl), account })
    const next = await clients.public.getTransactionCount({ address: account.address })
    const hash = await bare.sendTransaction({ to: devnetAccount(6).address, value: 1n, nonce: next + 1 })
    const waiting = await connect(devnet.rpcUrl, account)
    await assert.rejects(waitForReceipt(waiting, hash, 500), (error: unknown) => {
      assert.ok(error instanceof TransactionNotMinedError, String(error))
      assert.match(error.message, new RegExp(`nonce ${next + 1}\\).*waits behind nonce ${next} `))
      assert.deepEqual([error.details?.nonce, error.details?.minedNonces, error.details?.pendingNonces], [next + 1, next, next])
      return true
    })
    // The gap filled, it is mined.
    await bare.sendTransaction({ to: devnetAccount(6).address, value: 1n, nonce: next })
    assert.equal((await waitForReceipt(waiting, hash)).status, 'success')
  })

  it('mined but short of its confirmations is named so, with its block', async () => {
    const careful = await connect(devnet.rpcUrl, devnetAccount(5), { confirmations: 3 })
    const hash = await careful.wallet.sendTransaction({ to: devnetAccount(6).address, value: 1n })
    await assert.rejects(waitForReceipt(careful, hash, 500), /was mined in block \d+ but had not 3 confirmations/)
  })

  it('left out of a block for its price (anvil drops it) is sent again at a higher fee with the same nonce, and lands once', async () => {
    await outbidsAStuckSend(clients, deployment, 'anvil_setNextBlockBaseFeePerGas')
  })

  it('held in the pool below its price (Hardhat\'s network keeps it) is replaced at a higher fee, and lands once', async () => {
    const hardhat = await startHardhat()
    try {
      const there = await connect(hardhat.rpcUrl, devnetAccount(0))
      await outbidsAStuckSend(there, await deploy(there), 'hardhat_setNextBlockBaseFeePerGas')
    } finally {
      await hardhat.stop()
    }
  })

  it('held back by its caller, and left in the pool under a base fee that rose past it, is sent again on request at the chain\'s price, and lands once', async () => {
    // Hardhat's network keeps a transaction under the base fee in its pool, as geth does.
    const hardhat = await startHardhat()
    try {
      const there = await connect(hardhat.rpcUrl, devnetAccount(0))
      const deployed = await deploy(there)
      const rpc = async (method: string, params: unknown[] = []): Promise<unknown> => there.public.request({ method, params } as never)
      const sender = there.account.address
      const to = devnetAccount(9).address
      const before = await tokenBalance(there, deployed, to)
      const nonce = await there.public.getTransactionCount({ address: sender })
      const transfer = async (amount: bigint): Promise<`0x${string}`> => there.wallet.writeContract({ address: deployed.contracts.token, abi: commonsTokenAbi, functionName: 'transfer', args: [to, amount], gas: 100_000n })
      await rpc('evm_setAutomine', [false])
      const first = await transfer(5n)
      assert.equal(await repriceWaiting(there, [first]), undefined, 'at the chain\'s price it is not sent again: a slow chain is not paid more')
      // A base fee risen a little, still under what the fee cap covers: no copy either.
      const { baseFeePerGas } = await there.public.getBlock()
      await rpc('hardhat_setNextBlockBaseFeePerGas', [`0x${((baseFeePerGas ?? 0n) * 3n / 2n).toString(16)}`])
      await rpc('evm_mine', [])
      assert.equal(await there.public.getTransactionCount({ address: sender }), nonce + 1, 'mined at its price')
      assert.equal(await tokenBalance(there, deployed, to), before + 5n)
      const second = await transfer(5n)
      assert.ok((await there.public.getBlock()).baseFeePerGas! * 9n / 8n < (await there.public.getTransaction({ hash: second })).maxFeePerGas!)
      assert.equal(await repriceWaiting(there, [second]), undefined, 'its fee cap covers the next base fee: not sent again')
      await rpc('hardhat_setNextBlockBaseFeePerGas', [`0x${(100n * 10n ** 9n).toString(16)}`])
      await rpc('evm_mine')
      assert.equal(await there.public.getTransactionCount({ address: sender }), nonce + 1, 'the block left it out')
      assert.equal(await transactionOutcome(there, second), 'pending')
      // Another account's transaction is not signed again by this one.
      const other = await connect(hardhat.rpcUrl, devnetAccount(1))
      assert.equal(await repriceWaiting(other, [second]), undefined, 'not its own: nothing sent')
      let signed: string | undefined
      const copy = await repriceWaiting(there, [second], { onSigned: hash => { signed = hash } })
      assert.ok(copy !== undefined && copy !== second, 'a copy was sent')
      assert.equal(signed, copy, 'its hash told before it was sent')
      await rpc('evm_mine')
      const receipt = await waitForReceipt(there, copy)
      assert.equal(receipt.status, 'success')
      const mined = await there.public.getTransaction({ hash: copy })
      assert.equal(mined.nonce, nonce + 1, 'the same nonce: a replacement, not a second transfer')
      assert.equal(await tokenBalance(there, deployed, to), before + 10n, 'transferred once more')
      assert.equal(await transactionsOutcome(there, [second, copy]), 'succeeded')
      assert.equal(await repriceWaiting(there, [second, copy]), undefined, 'mined: nothing to send')

      // A call that would now fail is never sent again: a transfer of more than the sender holds.
      const failing = await transfer(10n ** 30n)
      await rpc('hardhat_setNextBlockBaseFeePerGas', [`0x${(1000n * 10n ** 9n).toString(16)}`])
      await rpc('evm_mine')
      assert.equal(await transactionOutcome(there, failing), 'pending')
      assert.equal(await repriceWaiting(there, [failing]), undefined, 'it would revert: not sent again')
    } finally {
      await hardhat.stop()
    }
  })

  it('whose copy at a higher fee cannot be sent stays the send\'s: not mined, with its nonce, and mined once later', async () => {
    const rpc = async (method: string, params: unknown[] = []): Promise<unknown> => clients.public.request({ method, params } as never)
    const quick = await connect(proxy.url, devnetAccount(2), { receiptTimeoutMs: 1_500 })
    const sender = quick.account.address
    const to = devnetAccount(9).address
    const before = await tokenBalance(clients, deployment, to)
    await transferTokens(clients, deployment, sender, 10n)
    const nonce = await clients.public.getTransactionCount({ address: sender })
    await rpc('evm_setAutomine', [false])
    try {
      const sending = transferTokens(quick, deployment, to, 5n)
      while (await clients.public.getTransactionCount({ address: sender, blockTag: 'pending' }) === nonce) await new Promise(resolve => setTimeout(resolve, 20))
      // The provider refuses the copy (as one capping fees would): no second transaction.
      proxy.refuse('eth_sendRawTransaction', 'tx fee (2.10 ether) exceeds the configured cap (1.00 ether)')
      await assert.rejects(sending, (error: unknown) => {
        assert.ok(error instanceof TransactionNotMinedError, String(error))
        assert.match(error.message, /though the chain holds it/)
        assert.equal(error.details?.nonce, nonce, 'the caller learns which nonce may still be mined')
        return true
      })
    } finally {
      proxy.refuse('eth_sendRawTransaction', undefined)
      await rpc('evm_setAutomine', [true])
    }
    await mineBlocks(devnet.rpcUrl, 1)
    assert.equal(await tokenBalance(clients, deployment, to), before + 5n, 'the first was mined, once')
    assert.equal(await clients.public.getTransactionCount({ address: sender }), nonce + 1)
  })

  it('has an outcome a caller can wait on: pending in the pool, succeeded, reverted, or unknown', async () => {
    const rpc = async (method: string, params: unknown[] = []): Promise<unknown> => clients.public.request({ method, params } as never)
    const account = devnetAccount(6)
    const bare = createWalletClient({ chain: clients.public.chain, transport: http(devnet.rpcUrl), account })
    const unknown = `0x${'cd'.repeat(32)}` as const
    await rpc('evm_setAutomine', [false])
    let pending: `0x${string}`
    try {
      pending = await bare.sendTransaction({ to: devnetAccount(7).address, value: 1n })
      assert.equal(await transactionOutcome(clients, pending), 'pending')
      assert.equal(await transactionsOutcome(clients, [unknown, pending]), 'pending', 'a copy still waiting: not to be sent anew')
    } finally {
      await rpc('evm_setAutomine', [true])
    }
    await mineBlocks(devnet.rpcUrl, 1)
    assert.equal(await transactionOutcome(clients, pending), 'succeeded')
    // A token transfer of more than the account holds: mined, and reverted.
    const reverting = await bare.writeContract({ address: deployment.contracts.token, abi: commonsTokenAbi, functionName: 'transfer', args: [devnetAccount(7).address, 10n ** 30n], gas: 100_000n })
    await waitForReceipt(clients, reverting)
    assert.equal(await transactionOutcome(clients, reverting), 'reverted')
    assert.equal(await transactionOutcome(clients, unknown), 'unknown')
    // One action sent as copies: any that succeeded decides, then any still waiting.
    assert.equal(await transactionsOutcome(clients, [unknown, reverting, pending]), 'succeeded')
    assert.equal(await transactionsOutcome(clients, [unknown, reverting]), 'reverted')
    assert.equal(await transactionsOutcome(clients, [unknown]), 'unknown')
    // A provider that fails the request says nothing of the transaction: no 'unknown' (which would send it anew).
    const flaky = await connect(proxy.url, devnetAccount(6))
    proxy.refuse('eth_getTransactionReceipt', 'upstream timed out')
    try {
      await assert.rejects(transactionOutcome(flaky, unknown), /upstream timed out/)
    } finally {
      proxy.refuse('eth_getTransactionReceipt', undefined)
    }
  })

  it('that the chain no longer knows is named as dropped', async () => {
    const unknown = `0x${'ab'.repeat(32)}` as const
    await assert.rejects(waitForReceipt(clients, unknown, 300), /not mined in 0 s and the chain no longer knows it/)
  })
})

describe('a provider that refuses requests for their rate', () => {
  it('connects through it: the first requests refused for their rate are asked again', async () => {
    proxy.limitNext(2, 'http')
    const before = proxy.refused
    const limited = await connect(proxy.url, devnetAccount(1))
    assert.equal(limited.public.chain.id, 31337)
    assert.equal(proxy.refused - before, 2)
  })

  for (const how of ['http', 'rpc'] as const) {
    it(`retries with backoff past ${how === 'http' ? 'HTTP 429' : 'JSON-RPC -32005'} and the send lands`, async () => {
      const limited = await connect(proxy.url, devnetAccount(1))
      const before = proxy.refused
      proxy.limitNext(4, how)
      const started = Date.now()
      const receipt = await limited.wallet.sendTransaction({ to: devnetAccount(8).address, value: parseEther('0.01') }).then(async hash => limited.public.waitForTransactionReceipt({ hash }))
      assert.equal(receipt.status, 'success')
      assert.equal(proxy.refused - before, 4, 'four requests were refused and retried')
      // 250 + 500 + 1000 + 2000 ms of backoff before the fifth try.
      assert.ok(Date.now() - started >= 3_500, `it backed off (${Date.now() - started} ms)`)
    })
  }
})

describe('confirmations and polling', () => {
  it('a send waits for the confirmations past its block before it returns', async () => {
    const careful = await connect(devnet.rpcUrl, devnetAccount(2), { confirmations: 2 })
    assert.equal(careful.confirmations, 2)
    let done = false
    const nonce = await clients.public.getTransactionCount({ address: careful.account.address })
    const sent = careful.wallet.sendTransaction({ to: devnetAccount(9).address, value: 1n })
      .then(async hash => { const r = await waitForReceipt(careful, hash); done = true; return r })
    for (let i = 0; i < 100 && (await clients.public.getTransactionCount({ address: careful.account.address })) === nonce; i++) await new Promise(resolve => setTimeout(resolve, 20))
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.equal(done, false, 'mined, but no block past it yet')
    await mineBlocks(devnet.rpcUrl, 1)
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.equal(done, false, 'one block past it of two')
    await mineBlocks(devnet.rpcUrl, 1)
    assert.equal((await sent).status, 'success')
  })

  it('a devnet acts at once and is polled fast; a public chain is polled at its block time and waits for confirmations', async () => {
    assert.deepEqual([clients.confirmations, clients.pollingMs], [0, 50])
    // 101 blocks 12 s apart, as Ethereum makes them: the 100-block span measured lies
    // wholly among them (the first one's gap to the block before can be a second longer).
    await clients.public.request({ method: 'hardhat_mine' as never, params: ['0x65', '0xc'] as never })
    assert.equal(await blockTimeMs(clients.public), 12_000)
    assert.deepEqual(await settingsFor(clients.public, 1), { pollingMs: 12_000, confirmations: PUBLIC_CONFIRMATIONS })
    assert.deepEqual(await settingsFor(clients.public, 31337), { pollingMs: 50, confirmations: 0 })
  })
})

/**
 * A token transfer sent, then, while it waits in the pool, a block whose base fee is far
 * above its fee cap (anyone filling blocks can raise the base fee so): the send must
 * replace it (same nonce, the chain's price) rather than fail or queue a second behind it.
 */
async function outbidsAStuckSend (clients: Clients, deployment: Deployment, setBaseFee: string): Promise<void> {
  const rpc = async (method: string, params: unknown[] = []): Promise<unknown> => clients.public.request({ method, params } as never)
  const quick = await connect(clients.rpcUrl, devnetAccount(0), { receiptTimeoutMs: 1_500 })
  const sender = clients.account.address
  const to = devnetAccount(9).address
  const before = await tokenBalance(clients, deployment, to)
  const nonce = await clients.public.getTransactionCount({ address: sender })
  const highBaseFee = 100n * 10n ** 9n
  // Blocks made every 200 ms, as a chain makes them (an automining Hardhat network takes
  // no replacement: it wants the next nonce).
  await rpc('evm_setAutomine', [false])
  let mining: NodeJS.Timeout | undefined
  try {
    const sending = transferTokens(quick, deployment, to, 5n)
    const first = await firstPending(clients, nonce)
    await rpc(setBaseFee, [`0x${highBaseFee.toString(16)}`])
    await rpc('evm_mine')
    assert.equal(await clients.public.getTransactionCount({ address: sender }), nonce, 'the block left it out')
    mining = setInterval(() => { void rpc('evm_mine').catch(() => {}) }, 200)
    const receipt = await sending
    assert.equal(receipt.status, 'success')
    const mined = await clients.public.getTransaction({ hash: receipt.transactionHash })
    assert.notEqual(mined.hash, first.hash, 'a replacement was mined')
    assert.ok(first.maxFeePerGas !== undefined && first.maxFeePerGas < highBaseFee, 'the first was priced under the base fee')
    assert.equal(mined.nonce, nonce, 'the same nonce: a replacement, not a second transfer queued behind the first')
    assert.ok(mined.maxFeePerGas !== undefined && mined.maxFeePerGas >= first.maxFeePerGas * 5n / 4n, `sent again at a higher price (${mined.maxFeePerGas} against ${first.maxFeePerGas})`)
    assert.equal(await tokenBalance(clients, deployment, to), before + 5n, 'transferred once')
    assert.equal(await clients.public.getTransactionCount({ address: sender, blockTag: 'pending' }), nonce + 1, 'nothing left waiting')
  } finally {
    clearInterval(mining)
    await rpc('evm_setAutomine', [true])
  }
}

/** The sender's transaction of `nonce` once it is in the pool (read from the pending block). */
async function firstPending (clients: Clients, nonce: number): Promise<{ hash: string, maxFeePerGas?: bigint }> {
  for (;;) {
    const block = await clients.public.getBlock({ blockTag: 'pending', includeTransactions: true })
    const tx = block.transactions.find(t => t.from.toLowerCase() === clients.account.address.toLowerCase() && t.nonce === nonce)
    if (tx !== undefined) return tx
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
