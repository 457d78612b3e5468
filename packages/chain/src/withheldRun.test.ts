import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { nodeProof, random32, recordHashes, toHex, transcriptRootOf, wordOf } from '@commons/protocol'
import type { StepRecord } from '@commons/engine'
import { INIT_STEP } from './dispute.ts'
import type { PostedRecord } from './disputeData.ts'
import { checkPosted, findDisputedStep } from './withheldRun.ts'

/**
 * The search for the step to dispute in a run whose transcript is had only by queries:
 * lying transcripts drawn at random (a few wrong records anywhere, states or losses, not
 * a run of them), answered with the proofs a trainer posts. It must name the first wrong
 * record's step, with the records the dispute opens over, descending four levels a query.
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
  it('names the first wrong record\'s step, over records the trainer posted, descending four levels a query', async () => {
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
      // Four levels a query at least, and a last query for a record beside the wrong one.
      const levels = Math.ceil(Math.log2(steps + 1))
      assert.ok(found.queries <= Math.ceil(levels / 4) + 2, `seed ${seed}: ${found.queries} queries for ${steps + 1} records`)
      assert.ok(asked <= 32 * found.queries)
    }
  })

  it('names the right step for every single wrong record of every kind, in runs of 1 to 20 steps and around 32', async () => {
    for (const steps of [...Array.from({ length: 20 }, (_, k) => k + 1), 31, 32, 33]) {
      const honest = honestRun(steps, steps)
      for (let i = 0; i <= steps; i++) {
        for (const kind of ['state', 'loss', 'both', 'state from here on'] as const) {
          const lying = honest.map(r => ({ ...r }))
          for (let j = i; j <= (kind === 'state from here on' ? steps : i); j++) {
            if (kind !== 'loss') lying[j].state = stateOf(steps, j, 7)
            if (kind === 'loss' || kind === 'both') lying[j].loss += 0.25
          }
          const found = await findDisputedStep(honest, answering(lying))
          const expected = kind === 'loss' ? i : i === 0 ? INIT_STEP : i - 1
          assert.equal(found.step, expected, `${steps} steps, record ${i}, ${kind}`)
          const at = found.step === INIT_STEP ? 0 : found.step
          assert.ok(found.records.has(at) && (found.step === INIT_STEP || found.step === steps || found.records.has(at + 1)), `${steps} steps, record ${i}, ${kind}: the records to open over`)
        }
      }
    }
  })

  it('takes records learnt before (a restart) without asking for them again', async () => {
    const honest = honestRun(3, 100)
    const lying = honest.map(r => ({ ...r }))
    lying[77].state = stateOf(3, 77, 9)
    const first = await findDisputedStep(honest, answering(lying))
    let asked = 0
    const again = await findDisputedStep(honest, async indices => { asked += indices.length; return answering(lying)(indices) }, first.records.values())
    assert.equal(again.step, 76)
    assert.equal(asked, 0)
  })

  it('checks records read back against the submitted root: a proof not the one the chain checked is refused', async () => {
    const honest = honestRun(4, 33)
    const root = transcriptRootOf(honest)
    const posted = await answering(honest)([0, 16, 33])
    checkPosted(posted, root, honest.length)
    const forged = posted.map((r, k) => k === 1 ? { ...r, proof: [toHex(new Uint8Array(32)), ...r.proof.slice(1)] } : r)
    assert.throws(() => checkPosted(forged, root, honest.length), /record 16 as read back does not prove/)
    assert.throws(() => checkPosted([{ ...posted[2], lossBits: posted[2].lossBits ^ 1 }], root, honest.length), /record 33/)
  })

  it('says there is nothing to dispute when every record agrees', async () => {
    const honest = honestRun(7, 40)
    await assert.rejects(findDisputedStep(honest, answering(honest)), /nothing to dispute/)
  })
})
