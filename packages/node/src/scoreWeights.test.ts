import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { median, weightsFromScores, WEIGHT_SCALE, type ServiceScore } from './scoreWeights.ts'

const score = (service: bigint, p: Partial<ServiceScore>): ServiceScore => ({ service, sent: 4, answered: 4, correct: 4, wrong: 0, medianLatencyMs: 100, ...p })

describe('weights from probe scores', () => {
  it('zeroes a service with one wrong answer, whatever its speed', () => {
    const [liar, honest] = weightsFromScores([score(1n, { correct: 3, wrong: 1, medianLatencyMs: 1 }), score(2n, {})])
    assert.equal(liar.weight, 0n)
    assert.equal(honest.weight, BigInt(WEIGHT_SCALE))
  })

  it('scales by availability and by speed against the fastest', () => {
    const [fast, slow, flaky, down] = weightsFromScores([
      score(1n, { medianLatencyMs: 50 }), score(2n, { medianLatencyMs: 200 }), score(3n, { answered: 2, correct: 2, medianLatencyMs: 50 }),
      score(4n, { answered: 0, correct: 0, medianLatencyMs: null })
    ])
    assert.equal(fast.weight, BigInt(WEIGHT_SCALE))
    assert.equal(slow.weight, BigInt(WEIGHT_SCALE / 4))
    assert.equal(flaky.weight, BigInt(WEIGHT_SCALE / 2))
    assert.equal(down.weight, 0n)
  })

  it('takes the lower middle as the median', () => {
    assert.equal(median([]), null)
    assert.equal(median([3, 1, 2]), 2)
    assert.equal(median([4, 1, 3, 2]), 2)
  })
})
