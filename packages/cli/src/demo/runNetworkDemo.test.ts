import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { NodeState } from '@commons/node'
import { runNetworkDemo } from './runNetworkDemo.ts'
import type { AgentToolCall } from './agentAct.ts'

/**
 * The demo behind a slow provider that caps eth_getLogs: its summary reads outcomes
 * from the chain, so it reports the dispute whatever the validator's queue holds. It
 * ends with the agent act (the model shipped in packages/agent/model).
 */

let home: string
before(async () => { home = await mkdtemp(join(tmpdir(), 'commons-demo-test-')) })
after(async () => { await rm(home, { recursive: true, force: true }) })

describe('the demo behind a slow, capping RPC', () => {
  it('catches and slashes the cheater, reports the dispute from the chain, and the agents answer with their tools', { timeout: 480_000 }, async (t) => {
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

    // The agent act: the calls (names and arguments), not the wording of a small model's answers.
    const agent = summary.agent
    assert.ok(agent !== undefined, 'the agent act ran')
    const [price, job, ask] = agent.questions
    const called = (q: typeof price, name: string): AgentToolCall | undefined => q.toolCalls.find(c => c.name === name && !c.isError)
    assert.ok(called(price, 'price') !== undefined, `the price question called the price tool: ${JSON.stringify(price.toolCalls)}`)
    // The acts before move the clock a day on; the feed's updater posts a round before the questions.
    assert.equal((called(price, 'price')!.result as { verdict: string }).verdict, 'fresh', 'a fresh price from the chain\'s feed: the price now')
    // A job of the demo's: the act narrows job_show's id to the chain's jobs (the model does not copy numbers).
    const shown = called(job, 'job_show')
    assert.ok(summary.jobs.some(j => Number(j.id) === shown?.arguments.id), `the dataset question called job_show on a job of the chain: ${JSON.stringify(job.toolCalls)}`)
    const shownJob = shown!.result as { dataset: string, attestors: string[], disputes: Array<{ challenger: string }> }
    assert.equal(shownJob.dataset, summary.datasets[0].versions[1], 'trained on the canonical version')
    assert.ok(shownJob.attestors.length + shownJob.disputes.length > 0, 'checked by the validator: attested, or disputed')
    const asked = called(ask, 'agent_ask')
    assert.equal(asked?.arguments.agent, 'validator', `the third question asked the validator's agent: ${JSON.stringify(ask.toolCalls)}`)
    assert.deepEqual((asked!.result as { cites: string[] }).cites, [agent.note], `whose answer cites its shared note by CID: ${JSON.stringify(asked)}`)
    assert.deepEqual(agent.cites, [agent.note])
  })
})
