import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inferenceSweep } from './testing/inferenceSweep.ts'

/**
 * A small run of the inference fault sweep (scripts/inferenceSweep.ts runs it at size):
 * one lie of each kind (a corrupted value from a random token on, another model under the
 * registered root, another seed) is slashed; honest providers disputed anyway, greedy and
 * sampled, keep their stake.
 */

let home: string
before(async () => { home = await mkdtemp(join(tmpdir(), 'commons-inference-sweep-')) })
after(async () => { await rm(home, { recursive: true, force: true }) })

describe('the inference fault sweep', () => {
  it('slashes a lie of each kind and never an honest provider', { timeout: 300_000 }, async (t) => {
    const outcomes = await inferenceSweep({ lies: 3, honest: 2, seed: 3, home, log: line => { t.diagnostic(line) } })
    const lies = outcomes.filter(o => o.kind !== 'honest')
    assert.deepEqual(lies.map(o => o.kind), ['value', 'model', 'seed'])
    for (const o of lies) {
      assert.equal(o.winner, 'challenger', `${o.kind}: ${o.what}`)
      assert.ok(o.slashed, `${o.kind}: ${o.what}`)
      assert.ok(o.maxGas <= 5_000_000)
    }
    const honest = outcomes.filter(o => o.kind === 'honest')
    assert.equal(honest.length, 2)
    for (const o of honest) {
      assert.equal(o.winner, 'provider', o.what)
      assert.equal(o.slashed, false, o.what)
    }
  })
})
