import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, deploy, devnetAccount, eventsInRanges, findDeploymentBlock, latestEvents, startDevnet, transferTokens, type Clients, type Deployment, type Devnet, commonsTokenAbi } from './index.ts'

let home: string
let devnet: Devnet
let clients: Clients
let deployment: Deployment

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-logs-'))
  devnet = await startDevnet({ home })
  clients = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = await deploy(clients)
})

after(async () => {
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

describe('bounded log queries', () => {
  it('read a range in windows of at most `range` blocks, in order, missing nothing', async () => {
    for (let i = 0; i < 7; i++) await transferTokens(clients, deployment, devnetAccount(1).address, BigInt(i + 1))
    const head = await clients.public.getBlockNumber()
    const windows: Array<{ from: bigint, to: bigint, values: bigint[] }> = []
    let from = BigInt(deployment.block)
    for await (const window of eventsInRanges(clients, { address: deployment.contracts.token, abi: commonsTokenAbi, eventName: 'Transfer', fromBlock: from, toBlock: head, range: 3n })) {
      windows.push({ from, to: window.toBlock, values: window.events.map(e => (e.args as { value: bigint }).value) })
      from = window.toBlock + 1n
    }
    assert.ok(windows.every(w => w.to - w.from + 1n <= 3n))
    assert.deepEqual(windows.flatMap(w => w.values), [1n, 2n, 3n, 4n, 5n, 6n, 7n])
    const last = await latestEvents(clients, { address: deployment.contracts.token, abi: commonsTokenAbi, eventName: 'Transfer', fromBlock: BigInt(deployment.block), range: 2n })
    // The newest window with any: the last two blocks, one transfer each.
    assert.deepEqual(last.map(e => (e.args as { value: bigint }).value), [6n, 7n])
  })

  it('finds the deployment block of a manifest that lacks it', async () => {
    const found = await findDeploymentBlock(clients, deployment.contracts.registry)
    assert.ok(found > 0n && found <= BigInt(deployment.block))
    assert.notEqual(await clients.public.getCode({ address: deployment.contracts.registry, blockNumber: found }), undefined)
    assert.equal(await clients.public.getCode({ address: deployment.contracts.registry, blockNumber: found - 1n }), undefined)
  })
})
