import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import { drawSteps, stepsToCheck } from './roles/validator.ts'

describe('the steps a validator replays', () => {
  it('are sized so a given step is drawn with the stated probability; all means all', () => {
    assert.equal(stepsToCheck(100, {}), 10)
    assert.equal(stepsToCheck(100, { checkProbability: 0.25 }), 25)
    assert.equal(stepsToCheck(7, {}), 1)
    assert.equal(stepsToCheck(100, { checkSteps: 'all' }), 100)
    assert.equal(stepsToCheck(100, { checkSteps: 4 }), 4)
    assert.deepEqual(drawSteps(`0x${'ab'.repeat(32)}`, '0x0000000000000000000000000000000000000001', 5, 5), [0, 1, 2, 3, 4])
  })

  it('catch a lie in any one step with that probability over many submissions', () => {
    const steps = 60
    const count = stepsToCheck(steps, {}) // 6 of 60: p = 0.1
    const trials = 4000
    for (const lie of [0, 17, 59]) {
      let caught = 0
      for (let i = 0; i < trials; i++) {
        const drawn = drawSteps(`0x${randomBytes(32).toString('hex')}` as Hex, `0x${randomBytes(20).toString('hex')}`, steps, count)
        assert.equal(drawn.length, count)
        if (drawn.includes(lie)) caught++
      }
      // Binomial(4000, 0.1): mean 400, sd 19; 5 sd either side.
      assert.ok(Math.abs(caught / trials - 0.1) < 0.024, `a lie at step ${lie} was drawn ${caught} times in ${trials}`)
    }
  })
})
