import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEventLogs } from 'viem'
import {
  advanceTime, asRevertError, connect, DEFAULT_MAX_AGE, deploy, devnetAccount, devnetFeedUpdater, DEVNET_FEED_UPDATER_INDEX,
  FEED_FIRST_ANSWER, formatAnswer, nextWalkAnswer, postWalkStep, priceFeedAbi, readPrice, requireFresh, runFeedUpdater, setFeedUpdater,
  startDevnet, updatePrice, type Clients, type Deployment, type Devnet
} from './index.ts'

let home: string
let devnet: Devnet
let deployment: Deployment
let deployer: Clients
let mallory: Clients
let updater: Clients

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-feed-'))
  devnet = await startDevnet({ home })
  deployer = await connect(devnet.rpcUrl, devnetAccount(0))
  mallory = await connect(devnet.rpcUrl, devnetAccount(7))
  updater = await connect(devnet.rpcUrl, devnetAccount(DEVNET_FEED_UPDATER_INDEX))
  deployment = await deploy(deployer)
})

after(async () => {
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

/** Runs `action` and returns the custom error name the contract refused it with. */
async function refusal (action: () => Promise<unknown>): Promise<string> {
  try {
    await action()
  } catch (error) {
    assert.equal((error as Error).name, 'ContractRevertError')
    return String((error as { details: { error: string } }).details.error)
  }
  assert.fail('the contract accepted it')
}

describe('the price feed on a real anvil', () => {
  it('a fresh deployment already has round 1, fresh', async () => {
    const reading = await readPrice(deployer, deployment)
    assert.equal(reading.roundId, 1n)
    assert.equal(reading.answer, FEED_FIRST_ANSWER)
    assert.equal(reading.price, '3000.00000000')
    assert.equal(reading.decimals, 8)
    assert.equal(reading.description, 'ETH / USD')
    assert.equal(reading.answeredInRound, 1n)
    assert.equal(reading.verdict, 'fresh')
    assert.equal(reading.maxAge, BigInt(DEFAULT_MAX_AGE))
    assert.equal(requireFresh(reading), reading)
  })

  it('an updater posts a round; readers see it with its block time', async () => {
    const { roundId, receipt } = await updatePrice(deployer, deployment, 3_123_45000000n)
    const block = await deployer.public.getBlock({ blockNumber: receipt.blockNumber })
    const reading = await readPrice(deployer, deployment)
    assert.equal(reading.roundId, roundId)
    assert.equal(reading.answer, 3_123_45000000n)
    assert.equal(reading.price, '3123.45000000')
    assert.equal(reading.updatedAt, block.timestamp)
    const events = parseEventLogs({ abi: priceFeedAbi, logs: receipt.logs })
    assert.deepEqual(events.map(e => e.eventName), ['NewRound', 'AnswerUpdated'])
    assert.equal(events[0].eventName === 'NewRound' && events[0].args.startedBy, deployer.account.address)
  })

  it('attack: a key without the updater role cannot post', async () => {
    assert.equal(await refusal(() => updatePrice(mallory, deployment, 1n)), 'NotUpdater')
    assert.equal(await refusal(() => setFeedUpdater(mallory, deployment, mallory.account.address, true)), 'OwnableUnauthorizedAccount')
  })

  it('attack: a zero or negative price is refused and the last answer stands', async () => {
    const before = await readPrice(deployer, deployment)
    assert.equal(await refusal(() => updatePrice(deployer, deployment, 0n)), 'AnswerNotPositive')
    assert.equal(await refusal(() => updatePrice(deployer, deployment, -5n)), 'AnswerNotPositive')
    const after = await readPrice(deployer, deployment)
    assert.equal(after.roundId, before.roundId)
    assert.equal(after.answer, before.answer)
  })

  it('an unknown round is refused by name', async () => {
    const latest = await deployer.public.readContract({ address: deployment.contracts.priceFeed, abi: priceFeedAbi, functionName: 'latestRound' })
    try {
      await deployer.public.readContract({ address: deployment.contracts.priceFeed, abi: priceFeedAbi, functionName: 'getRoundData', args: [latest + 1n] })
      assert.fail('read an unknown round')
    } catch (error) {
      const named = asRevertError(error, 'getRoundData') as { name: string, details: { error: string } }
      assert.equal(named.details.error, 'NoData')
    }
  })

  it('an answer older than the max age is stale, and requireFresh refuses it', async () => {
    await advanceTime(devnet.rpcUrl, DEFAULT_MAX_AGE + 5)
    const reading = await readPrice(deployer, deployment)
    assert.equal(reading.verdict, 'stale')
    assert.ok(reading.age > BigInt(DEFAULT_MAX_AGE), `age ${reading.age}`)
    assert.throws(() => requireFresh(reading), { name: 'StalePriceError' })
    await assert.rejects(readPrice(deployer, deployment, { maxAge: 1.5 }), { name: 'InvalidChainInputError' })
    await assert.rejects(readPrice(deployer, deployment, { maxAge: -1n }), { name: 'InvalidChainInputError' })
    // A reader allowing more age judges the same answer fresh.
    assert.equal((await readPrice(deployer, deployment, { maxAge: DEFAULT_MAX_AGE * 2 })).verdict, 'fresh')
  })

  it('the devnet updater, with its own key, makes a stale price fresh and stops on abort', async () => {
    assert.equal(updater.account.address, devnetFeedUpdater())
    assert.ok(await updater.public.getBalance({ address: updater.account.address }) > 0n, 'deploy gave the updater gas money')
    const start = await readPrice(updater, deployment)
    assert.equal(start.verdict, 'stale')
    const controller = new AbortController()
    const lines: string[] = []
    const loop = runFeedUpdater({ interval: 0.1, target: async () => ({ clients: updater, deployment }), signal: controller.signal, log: line => lines.push(line) })
    let reading = start
    for (let i = 0; i < 100 && reading.roundId < start.roundId + 2n; i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      reading = await readPrice(updater, deployment)
    }
    controller.abort()
    await loop
    assert.ok(reading.roundId >= start.roundId + 2n, `rounds posted: ${lines.join('; ')}`)
    assert.equal(reading.verdict, 'fresh')
    // The walk is the seeded one: each answer follows from the one before.
    const previous = await updater.public.readContract({ address: deployment.contracts.priceFeed, abi: priceFeedAbi, functionName: 'getAnswer', args: [reading.roundId - 1n] })
    assert.equal(reading.answer, nextWalkAnswer(0x636f6d6d6f6e73n, previous, reading.roundId))
    // The loop has returned: nothing posts any more.
    const after = await readPrice(updater, deployment)
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.equal((await readPrice(updater, deployment)).roundId, after.roundId, 'no post after abort')
  })

  it('the updater waits while there is no deployment and logs a failing post once', async () => {
    const controller = new AbortController()
    const lines: string[] = []
    let calls = 0
    const loop = runFeedUpdater({
      interval: 0.05,
      target: async () => (++calls <= 2 ? null : { clients: mallory, deployment }),
      signal: controller.signal,
      log: line => lines.push(line)
    })
    while (calls < 6) await new Promise(resolve => setTimeout(resolve, 20))
    controller.abort()
    await loop
    assert.equal(lines.filter(l => l.startsWith('waiting')).length, 1)
    const failures = lines.filter(l => l.startsWith('post failed'))
    assert.equal(failures.length, 1, lines.join('; '))
    assert.match(failures[0], /ContractRevertError/)
  })

  it('a feed that never had a round reports NoPriceError', async () => {
    const bare = await deploy(deployer, { priceUpdaters: [mallory.account.address] })
    await assert.rejects(readPrice(deployer, bare), { name: 'NoPriceError' })
  })

  it('walk steps stay within ±0.5 % and above zero; answers format exactly', () => {
    let answer = FEED_FIRST_ANSWER
    for (let round = 2n; round < 500n; round++) {
      const next = nextWalkAnswer(7n, answer, round)
      assert.ok(next > 0n)
      assert.ok((next - answer) * 200n <= answer && (answer - next) * 200n <= answer, `step ${answer} -> ${next}`)
      answer = next
    }
    assert.equal(nextWalkAnswer(7n, 1n, 3n), 1n)
    assert.equal(formatAnswer(5n, 8), '0.00000005')
    assert.equal(formatAnswer(-123456789n, 8), '-1.23456789')
    assert.equal(formatAnswer(42n, 0), '42')
  })
})

describe('the devnet updater on a chain whose clock ran back', () => {
  it('moves a devnet clock that ran back up to its head, so the feed keeps taking rounds', async () => {
    const home2 = await mkdtemp(join(tmpdir(), 'commons-feed-clock-'))
    const chain = await startDevnet({ home: home2 })
    try {
      const owner = await connect(chain.rpcUrl, devnetAccount(0))
      const feedKey = await connect(chain.rpcUrl, devnetAccount(DEVNET_FEED_UPDATER_INDEX))
      const d = await deploy(owner)
      await advanceTime(chain.rpcUrl, 7200)
      const { receipt } = await updatePrice(owner, d, 3000_00000000n)
      const last = (await owner.public.getBlock({ blockNumber: receipt.blockNumber })).timestamp
      // What a restarted anvil does: its clock starts again at the wall time, two hours back.
      await owner.public.request({ method: 'evm_setTime' as never, params: [Number(last) - 7000] as never })
      assert.equal(await refusal(() => updatePrice(owner, d, 1n)), 'TimestampWentBack')
      const { roundId } = await postWalkStep(feedKey, d)
      const posted = await owner.public.readContract({ address: d.contracts.priceFeed, abi: priceFeedAbi, functionName: 'getTimestamp', args: [roundId] })
      assert.ok(posted >= last, `round ${roundId} at ${posted}, last at ${last}`)
      // The repair is the devnet's, not only the feed's: later blocks are not older than the head either.
      const next = await owner.public.getBlock({ blockTag: 'pending' })
      assert.ok(next.timestamp >= posted)
    } finally {
      await chain.stop()
      await rm(home2, { recursive: true, force: true })
    }
  })
})
