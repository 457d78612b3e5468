import { EMPTY, hashPair, recordHashes, toHex, wordOf, type Hash } from '@commons/protocol'
import type { StepRecord } from '@commons/engine'
import { DisputeError, INIT_STEP } from './dispute.ts'
import type { PostedRecord } from './disputeData.ts'

/**
 * A run the trainer does not serve (docs/step-program.md, "Data availability"): its
 * transcript is forced out by queries (openQuery), and compared with the challenger's own
 * honest records (it re-trained the job from S_0). The trainer chooses its records freely,
 * so the wrong ones need not be a run of them: the search follows the transcript tree
 * instead. The proof of a posted record holds the trainer's hash of every subtree beside
 * its path; the lowest one that differs from the honest tree's holds a wrong record, and
 * everything left of it agrees. So each query (a record and the one before it) descends
 * at least one level toward the first wrong record: at most one query per level of the
 * tree (18 for 100,000 steps).
 */

export interface DisputedStep {
  /** The step to open the dispute over, or INIT_STEP when S_0 differs. */
  step: number
  /** The trainer's records learnt, by index, with their proofs. */
  records: Map<number, PostedRecord>
  /** Queries made. */
  queries: number
}

/** The levels of the transcript tree over `leaves`, bottom up, as nodeRoot pairs them. */
function treeLevels (leaves: Hash[]): Hash[][] {
  const levels = [leaves]
  for (let level = leaves, height = 0; level.length > 1; height++) {
    const next: Hash[] = []
    for (let i = 0; i < level.length; i += 2) next.push(hashPair(level[i], level[i + 1] ?? EMPTY[height]))
    levels.push(next)
    level = next
  }
  return levels
}

/** Whether the trainer's record says what the honest one says (state and loss, bit for bit). */
const sameRecord = (posted: PostedRecord, honest: StepRecord): boolean =>
  posted.state === honest.state && posted.lossBits === wordOf(honest.loss, 'f32')

/**
 * The lowest level below `height` where the proof of leaf `index` (nodeProof's order:
 * bottom up, a sibling only where the level has one) names a subtree to the right of the
 * path that differs from the honest tree's; -1 when none does.
 */
function lowestDifferingRight (levels: Hash[][], index: number, proof: readonly string[], height: number): number {
  let used = 0
  for (let h = 0; h < levels.length - 1; h++) {
    const partner = (index >> h) ^ 1
    if (partner >= levels[h].length) continue
    const sibling = proof[used++]
    if (h < height && partner > index >> h && sibling !== toHex(levels[h][partner])) return h
  }
  return -1
}

/**
 * The step whose replay departs from the trainer's transcript, found by asking for records
 * (`ask`: a query, answered; it throws when the trainer does not answer). `honest` is the
 * whole honest transcript (records 0..T), whose root differs from the trainer's. Record i
 * holds S_i and the loss of step i from S_i: a first wrong state at i (> 0) is a lie of
 * step i - 1; a state right but its loss wrong, a lie of step i (of the last record: an
 * evaluation of S_T, step T).
 */
export async function findDisputedStep (honest: StepRecord[], ask: (indices: number[]) => Promise<PostedRecord[]>): Promise<DisputedStep> {
  const last = honest.length - 1
  const levels = treeLevels(recordHashes(honest))
  const records = new Map<number, PostedRecord>()
  let queries = 0
  const learn = async (indices: number[]): Promise<void> => {
    const wanted = indices.filter(i => !records.has(i))
    if (wanted.length === 0) return
    queries++
    const posted = await ask(wanted)
    for (const i of wanted) {
      const record = posted.find(r => r.index === i)
      if (record === undefined) throw new DisputeError(`the answer to a query for record ${i} lacks it`)
      records.set(i, record)
    }
  }
  // The first wrong record lies in the subtree of 2^height leaves from `from`; every record before it agrees.
  let from = 0
  let height = levels.length - 1
  for (;;) {
    await learn(from === 0 ? [0] : [from - 1, from])
    const record = records.get(from) as PostedRecord
    if (!sameRecord(record, honest[from])) break
    const h = lowestDifferingRight(levels, from, record.proof, height)
    if (h === -1) throw new DisputeError('every record agrees with the honest transcript: nothing to dispute')
    from += 2 ** h
    height = h
  }
  const record = records.get(from) as PostedRecord
  if (record.state !== honest[from].state) return { step: from === 0 ? INIT_STEP : from - 1, records, queries }
  // Its state agrees, its loss does not: step `from`, over records from and from + 1 (the last record alone).
  if (from < last) await learn([from + 1])
  return { step: from, records, queries }
}
