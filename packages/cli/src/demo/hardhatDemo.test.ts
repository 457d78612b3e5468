import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mineBlocks, startHardhat, type HardhatNetwork } from '@commons/chain'
import { startRpcProxy, type RpcProxy } from '@commons/node/testing/rpcProxy'
import { commons } from '../testing.ts'
import type { DemoSummary } from './runNetworkDemo.ts'

/**
 * SLOW (about 40 s on 2 busy cores, hardhat node's start included): the whole demo, `commons demo --rpc URL`, on
 * Hardhat's network (`hardhat node` from npm, its EDR) instead of anvil: a second,
 * independent EVM implementation runs the DAO, the fork, both jobs, the dispute that
 * slashes the cheater and the payment of the honest trainer. The demo reaches it as a
 * hosted provider: through a proxy refusing eth_getLogs over 1,000 blocks, on a chain
 * already 1,200 blocks long, so a read from genesis would be refused.
 */

let root: string
let hardhat: HardhatNetwork
let proxy: RpcProxy

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-hardhat-demo-'))
  hardhat = await startHardhat()
  await mineBlocks(hardhat.rpcUrl, 1200)
  proxy = await startRpcProxy({ target: hardhat.rpcUrl, maxLogRange: 1000 })
})
after(async () => {
  await proxy?.close()
  await hardhat?.stop()
  await rm(root, { recursive: true, force: true })
})

describe('the demo on Hardhat\'s network (slow)', () => {
  it('catches and slashes the cheater, pays the honest trainer and verifies the model', { timeout: 600_000 }, async () => {
    const started = Date.now()
    const run = await commons(['demo', '--rpc', proxy.url, '--steps', '6', '--layers', '1', '--json', '--home', root])
    const seconds = (Date.now() - started) / 1000
    assert.equal(run.code, 0, run.stderr.split('\n').slice(-40).join('\n'))
    const summary = JSON.parse(run.stdout) as DemoSummary
    assert.equal(summary.rpcUrl, proxy.url, 'it ran on the chain given, not on an anvil of its own')
    assert.ok(summary.ok, `${JSON.stringify(summary.jobs)} ${JSON.stringify(summary.disputes)}`)
    assert.ok(summary.disputes.length > 0 && summary.disputes.every(d => d.winner === 'challenger'))
    assert.deepEqual(summary.jobs.map(j => j.outcome).sort(), ['finalized', 'slashed'])
    assert.ok(summary.model.verified)
    assert.ok((summary.storage?.proofs ?? 0) >= 3 && summary.storage?.missed === 1, `the storage act ran on Hardhat too: ${JSON.stringify(summary.storage)}`)
    assert.equal(proxy.refusedRanges, 0, 'no eth_getLogs spanned more than 1,000 blocks')
    process.stderr.write(`# the demo on Hardhat's network took ${seconds.toFixed(0)} s\n`)
  })

  it('reports a --rpc where no chain answers by name', async () => {
    const run = await commons(['demo', '--rpc', 'http://127.0.0.1:9', '--json', '--home', root])
    assert.equal(run.code, 1)
    assert.equal((JSON.parse(run.stderr) as { error: { name: string } }).error.name, 'ChainUnreachableError')
  })
})
