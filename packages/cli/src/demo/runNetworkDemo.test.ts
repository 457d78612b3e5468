import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
  it('catches and slashes the cheater and reports the dispute from the chain', { timeout: 480_000 }, async () => {
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
    const state = new NodeState(join(summary.home, 'nodes', 'validator', 'node', 'state.db'))
    try {
      assert.ok(state.disputes().some(d => d.role === 'challenger' && d.status.startsWith('resolved: challenger')), 'the validator\'s own record settled too')
    } finally {
      state.close()
    }
  })
})
