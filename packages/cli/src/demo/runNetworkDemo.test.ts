import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { NodeState } from '@commons/node'
import { runNetworkDemo } from './runNetworkDemo.ts'

/**
 * The demo behind a slow provider that caps eth_getLogs: its summary reads outcomes
 * from the chain, so it reports the dispute whatever the validator's queue holds.
 */

let home: string
before(async () => { home = await mkdtemp(join(tmpdir(), 'commons-demo-test-')) })
after(async () => { await rm(home, { recursive: true, force: true }) })

describe('the demo behind a slow, capping RPC', () => {
  it('catches and slashes the cheater and reports the dispute from the chain', { timeout: 480_000 }, async (t) => {
    const lines: string[] = []
    const summary = await runNetworkDemo({ home, steps: 6, layers: 1, rpcDelayMs: 40, log: line => lines.push(line) })
    assert.ok(summary.ok, `the demo ended ok (${JSON.stringify(summary.jobs)} ${JSON.stringify(summary.disputes)})\n${lines.slice(-30).join('\n')}`)
    assert.ok(summary.disputes.length > 0)
    assert.ok(summary.disputes.every(d => d.winner === 'challenger' && d.moves >= 1))
    // The storage act is part of the default demo, behind the same slow RPC.
    const storage = summary.storage
    assert.ok(storage !== undefined, 'the default demo runs the storage act')
    assert.equal(storage.deals, 1)
    assert.ok(storage.proofs >= 3, `both storers proved, then the third (${storage.proofs} proofs)`)
    assert.equal(storage.missed, 1, 'only the storer that lost its disk missed an epoch')
    assert.equal(storage.slashed, '50', 'half its 100 COM collateral went to the DAO')
    assert.ok(storage.epochs >= 4, `a join, a proof, a miss and a takeover take four epochs (${storage.epochs})`)
    process.stderr.write(`# the storage act took ${storage.seconds.toFixed(1)} s\n`)
    // The inference act (on by default): paid calls, the one lie disputed and won by its challenger, an epoch paid out in full.
    const inference = summary.inference
    assert.ok(inference !== undefined, 'the inference act ran')
    assert.equal(inference.requests, 6)
    assert.equal(inference.receipts, inference.requests)
    assert.ok(Number(inference.paid) > 0 && inference.tokens > 0)
    assert.equal(inference.disputes.length, 1, 'exactly the one lie is disputed (honest answers never are)')
    assert.equal(inference.disputes[0].winner, 'challenger')
    assert.ok(inference.disputes[0].moves >= 2, 'the open and at least the provider\'s trace')
    assert.ok(inference.disputes[0].maxGas <= 5_000_000, `each move under 5M gas (${inference.disputes[0].maxGas})`)
    assert.equal(inference.epoch.weights['provider-1'], '1', 'the honest provider has all the consensus weight')
    const payouts = Object.values(inference.epoch.payouts).reduce((sum, x) => sum + parseEther(x), 0n)
    assert.equal(payouts, parseEther('100'), 'the pool is paid out exactly')
    t.diagnostic(`inference act: ${inference.seconds} s, dispute ${JSON.stringify(inference.disputes)}, epoch ${JSON.stringify(inference.epoch)}`)
    const state = new NodeState(join(summary.home, 'nodes', 'validator', 'node', 'state.db'))
    try {
      assert.ok(state.disputes().some(d => d.role === 'challenger' && d.status.startsWith('resolved: challenger')), 'the validator\'s own record settled too')
    } finally {
      state.close()
    }
  })
})
