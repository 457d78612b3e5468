import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { nodeProof, random32, recordHashes, toHex, wordOf } from '@commons/protocol'
import type { StepRecord } from '@commons/engine'
import { INIT_STEP } from './dispute.ts'
import type { PostedRecord } from './disputeData.ts'
import { findDisputedStep } from './withheldRun.ts'

/**
 * The search for the step to dispute in a run whose transcript is had only by queries:
 * lying transcripts drawn at random (a few wrong records anywhere, states or losses, not
 * a run of them), answered with the proofs a trainer posts. It must name the first wrong
 * record's step, with the records the dispute opens over, in at most one query a level.
 */

const stateOf = (seed: number, i: number, k: number): `0x${string}` =>
  toHex(Uint8Array.from({ length: 32 }, (_, b) => random32(seed, i * 97 + k, b) & 0xff))

function honestRun (seed: number, steps: number): StepRecord[] {
  return Array.from({ length: steps + 1 }, (_, step) => ({ step, state: stateOf(seed, step, 0), loss: 1 + (random32(seed, step, 1) % 1000) / 100 }))
}

/** The trainer's side: answers a query with its records and their proofs. */
function answering (lying: StepRecord[]): (indices: number[]) => Promise<PostedRecord[]> {
  const hashes = recordHashes(lying)
  return async indices => indices.map(index => ({ index, state: lying[index].state, lossBits: wordOf(lying[index].loss, 'f32'), proof: nodeProof(hashes, index).map(toHex) }))
}

describe('finding the step to dispute from queried records', () => {
  it('names the first wrong record\'s step, over records the trainer posted, in at most one query a level', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const steps = [1, 2, 5, 31, 32, 33, 100, 1000][seed % 8]
      const honest = honestRun(seed, steps)
      const lying = honest.map(r => ({ ...r }))
      const wrong = 1 + (random32(seed, 9, 0) % 3)
      for (let k = 0; k < wrong; k++) {
        const i = random32(seed, 9, k + 1) % (steps + 1)
        if (random32(seed, 9, k + 10) % 2 === 0) lying[i].state = stateOf(seed, i, 5)
        else lying[i].loss += 0.5
      }
      const first = lying.findIndex((r, i) => r.state !== honest[i].state || r.loss !== honest[i].loss)
      let asked = 0
      const found = await findDisputedStep(honest, async indices => { asked += indices.length; return answering(lying)(indices) })
      const stateWrong = lying[first].state !== honest[first].state
      const expected = stateWrong ? (first === 0 ? INIT_STEP : first - 1) : first
      assert.equal(found.step, expected, `seed ${seed}: ${steps} steps, first wrong record ${first}`)
      // The records the dispute opens over are known, with the trainer's values.
      const at = found.step === INIT_STEP ? 0 : found.step
      for (const i of found.step === INIT_STEP || found.step === steps ? [at] : [at, at + 1]) {
        assert.equal(found.records.get(i)?.state, lying[i].state, `seed ${seed}: record ${i}`)
      }
      const levels = Math.ceil(Math.log2(steps + 1)) + 1
      assert.ok(found.queries <= levels + 1, `seed ${seed}: ${found.queries} queries for ${steps + 1} records`)
      assert.ok(asked <= 2 * (levels + 1))
    }
  })

  it('says there is nothing to dispute when every record agrees', async () => {
    const honest = honestRun(7, 40)
    await assert.rejects(findDisputedStep(honest, answering(honest)), /nothing to dispute/)
  })
})
