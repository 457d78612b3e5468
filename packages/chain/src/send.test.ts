import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, type Hex } from 'viem'
import { connect, devnetAccount, gasWithMargin, send, startDevnet, type Clients, type Devnet } from './index.ts'

/**
 * A call whose gas depends on the block that mines it, as DisputeGame's moves do (a
 * deadline written one second later costs 2,800 more): this contract, on any call,
 * stores the timestamp when it is odd (one cold SLOAD and one fresh SSTORE, ~22,000
 * gas) and does nothing when it is even. Hand-written EVM: the runtime
 *   TIMESTAMP 1 AND 8 JUMPI STOP JUMPDEST 0 SLOAD POP TIMESTAMP 0 SSTORE STOP
 * behind a constructor that returns it.
 */
const BYTECODE: Hex = '0x6012600c60003960126000f3' + '426001166008570' + '05b6000545042600055' + '00' as Hex
const ABI = [{ type: 'function', name: 'poke', inputs: [], outputs: [], stateMutability: 'nonpayable' }] as const

let home: string
let devnet: Devnet
let clients: Clients

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-send-'))
  devnet = await startDevnet({ home })
  clients = await connect(devnet.rpcUrl, devnetAccount(0))
})

after(async () => {
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

const rpc = async (method: string, params: unknown[]): Promise<unknown> => clients.public.request({ method: method as never, params: params as never })

async function deployPoke (): Promise<Address> {
  const hash = await clients.wallet.sendTransaction({ data: BYTECODE })
  return (await clients.public.waitForTransactionReceipt({ hash })).contractAddress as Address
}

/**
 * Runs `submit` with the next block at an even timestamp (where the estimate is taken),
 * then mines what it sent at the odd timestamp after: the call costs more than estimated.
 */
async function minedLater<T> (submit: () => Promise<T>): Promise<T> {
  const latest = await clients.public.getBlock()
  const even = latest.timestamp + 10n + (latest.timestamp % 2n)
  await rpc('evm_setAutomine', [false])
  try {
    await rpc('evm_setNextBlockTimestamp', [Number(even)])
    const pending = submit()
    for (let i = 0; i < 200; i++) {
      const block = await clients.public.getBlock({ blockTag: 'pending' })
      if (block.transactions.length > 0) break
      await new Promise(resolve => setTimeout(resolve, 25))
    }
    await rpc('evm_setNextBlockTimestamp', [Number(even + 1n)])
    await rpc('evm_mine', [])
    return await pending
  } finally {
    await rpc('evm_setAutomine', [true])
  }
}

describe('send() and gas that changes between estimate and mining', () => {
  it('a call sent with its bare estimate runs out of gas when mined a second later (the failure)', async () => {
    const poke = await deployPoke()
    const receipt = await minedLater(async () => {
      const gas = await clients.public.estimateContractGas({ address: poke, abi: ABI, functionName: 'poke', account: clients.account, blockTag: 'pending' } as never)
      const hash = await clients.wallet.writeContract({ address: poke, abi: ABI, functionName: 'poke', gas })
      return clients.public.waitForTransactionReceipt({ hash })
    })
    assert.equal(receipt.status, 'reverted')
  })

  it('send() adds a margin, so the same call mined a second later succeeds', async () => {
    const poke = await deployPoke()
    const receipt = await minedLater(async () => send(clients, { address: poke, abi: ABI, functionName: 'poke', args: [] }))
    assert.equal(receipt.status, 'success')
    assert.ok(receipt.gasUsed > 40_000n, `the odd-second branch ran (${receipt.gasUsed} gas)`)
  })

  it('the margin grows with each retry and never passes the block gas limit', () => {
    assert.equal(gasWithMargin(100_000n, 30_000_000n), 150_000n)
    assert.ok(gasWithMargin(100_000n, 30_000_000n, 1) > gasWithMargin(100_000n, 30_000_000n, 0))
    assert.equal(gasWithMargin(29_000_000n, 30_000_000n), 30_000_000n)
  })
})
