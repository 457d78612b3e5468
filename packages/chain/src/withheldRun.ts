import { concat, keccak256, numberToHex } from 'viem'
import { hexBytes, nodeLevels, recordHashes, rootFromNodeProof, toHex, wordOf, type Hash } from '@commons/protocol'
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
 * everything left of it agrees. So a query of the first record of each of 16 subtrees
 * (and the records before them) descends at least four levels toward the first wrong
 * record: 5 queries for 100,000 steps.
 */

export interface DisputedStep {
  /** The step to open the dispute over, or INIT_STEP when S_0 differs. */
  step: number
  /** The trainer's records learnt, by index, with their proofs. */
  records: Map<number, PostedRecord>
  /** Queries made. */
  queries: number
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

/** Subtrees a query looks into at once: a record at the start of each, and the one before it (32 records, MAX_QUERY_RECORDS). */
const WAYS = 16

/**
 * The step whose replay departs from the trainer's transcript, found by asking for records
 * (`ask`: a query, answered; it throws when the trainer does not answer). `honest` is the
 * whole honest transcript (records 0..T), whose root differs from the trainer's; `known`,
 * records posted in answer to earlier queries (after a restart). Record i holds S_i and
 * the loss of step i from S_i: a first wrong state at i (> 0) is a lie of step i - 1; a
 * state right but its loss wrong, a lie of step i (of the last record: an evaluation of
 * S_T, step T). Each query asks for the first record of each of 16 subtrees of the part
 * searched, and the record before each: its answer descends at least four levels.
 */
export async function findDisputedStep (honest: StepRecord[], ask: (indices: number[]) => Promise<PostedRecord[]>, known: Iterable<PostedRecord> = []): Promise<DisputedStep> {
  const last = honest.length - 1
  const levels = nodeLevels(recordHashes(honest))
  const records = new Map<number, PostedRecord>([...known].map(r => [r.index, r]))
  let queries = 0
  const learn = async (indices: number[]): Promise<void> => {
    const wanted = [...new Set(indices)].filter(i => i >= 0 && i <= last && !records.has(i)).sort((a, b) => a - b)
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
  let wrong: number | undefined
  while (wrong === undefined) {
    // The subtrees of 2^below leaves that split it 16 ways (or its leaves, near the bottom).
    const below = Math.max(0, height - Math.log2(WAYS))
    const starts = Array.from({ length: 2 ** (height - below) }, (_, k) => from + k * 2 ** below).filter(i => i <= last)
    await learn(starts.flatMap(i => [i - 1, i]))
    let descended = false
    for (const start of starts) {
      const record = records.get(start) as PostedRecord
      if (!sameRecord(record, honest[start])) { wrong = start; break }
      const h = lowestDifferingRight(levels, start, record.proof, below)
      if (h !== -1) {
        from = start + 2 ** h
        height = h
        descended = true
        break
      }
      // This subtree agrees whole: the first wrong record lies further right.
    }
    if (wrong === undefined && !descended) throw new DisputeError('every record agrees with the honest transcript: nothing to dispute')
  }
  if (wrong > 0) await learn([wrong - 1])
  const record = records.get(wrong) as PostedRecord
  if (record.state !== honest[wrong].state) return { step: wrong === 0 ? INIT_STEP : wrong - 1, records, queries }
  // Its state agrees, its loss does not: step `wrong`, over records wrong and wrong + 1 (the last record alone).
  if (wrong < last) await learn([wrong + 1])
  return { step: wrong, records, queries }
}

/**
 * Checks records posted in answer to a query against the transcript root the trainer
 * submitted (`count` records): the chain checked them already, but what is read back here
 * (the RecordsPosted log) must be what the chain checked. Throws on the first that is not.
 */
export function checkPosted (posted: readonly PostedRecord[], transcriptRoot: string, count: number): void {
  for (const r of posted) {
    const leaf = keccak256(concat(['0x03', r.state, numberToHex(r.lossBits, { size: 4 })]), 'bytes')
    const nodes = rootFromNodeProof(leaf, r.index, count, r.proof.map(hexBytes))
    if (keccak256(concat([toHex(nodes), numberToHex(count, { size: 32 })])) !== transcriptRoot) {
      throw new DisputeError(`record ${r.index} as read back does not prove against the submitted transcript root`)
    }
  }
}
