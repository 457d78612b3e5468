/**
 * A generated JSONL corpus and its evolution, for the walk-through, the tests and
 * the storage benchmark. Deterministic: the same seed gives the same bytes.
 */

const WORDS = (
  'data model train open commons network token version fork chunk block hash proof stake ' +
  'reward learn step loss weight layer attention river mountain city garden music light ' +
  'market price share vote member treasury verify replay transcript dataset community ' +
  'the a of and to in is was for on with as by at from it that this be are not or'
).split(' ')

/** A small counter-free PRNG (mulberry32): fine for test data, never for training. */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function sentence (random: () => number, words: number): string {
  const out: string[] = []
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(random() * WORDS.length)])
  return out.join(' ')
}

function makeRow (random: () => number): string {
  return JSON.stringify({
    id: Math.floor(random() * 1e9),
    title: sentence(random, 3 + Math.floor(random() * 4)),
    text: sentence(random, 12 + Math.floor(random() * 40)),
    score: Math.round(random() * 1000) / 1000
  })
}

/** Rows of a JSONL corpus of about `bytes` bytes (one JSON object per row). */
export function generateRows (bytes: number, seed = 1): string[] {
  const random = seededRandom(seed)
  const rows: string[] = []
  let size = 0
  while (size < bytes) {
    const row = makeRow(random)
    rows.push(row)
    size += row.length + 1
  }
  return rows
}

export interface EditPlan {
  /** Rows changed in place, at random positions. */
  scatteredEdits: number
  /** Share of rows appended at the end. */
  appendShare: number
  /** Share of rows inserted, and separately deleted, in a few contiguous runs. */
  runShare: number
  runs: number
}

export const DEFAULT_EDITS: EditPlan = { scatteredEdits: 100, appendShare: 0.01, runShare: 0.005, runs: 3 }

/** The next version of a corpus: scattered row edits, appended rows, runs inserted and deleted. */
export function editRows (rows: string[], seed: number, plan: EditPlan = DEFAULT_EDITS): string[] {
  const random = seededRandom(seed)
  const next = rows.slice()
  for (let i = 0; i < plan.scatteredEdits; i++) {
    const at = Math.floor(random() * next.length)
    const row = JSON.parse(next[at]) as { text: string }
    row.text = `${row.text} ${sentence(random, 2)}`
    next[at] = JSON.stringify(row)
  }
  const runLength = Math.max(1, Math.round(rows.length * plan.runShare / plan.runs))
  for (let r = 0; r < plan.runs; r++) {
    const at = Math.floor(random() * (next.length - runLength))
    next.splice(at, runLength)
  }
  for (let r = 0; r < plan.runs; r++) {
    const at = Math.floor(random() * next.length)
    next.splice(at, 0, ...Array.from({ length: runLength }, () => makeRow(random)))
  }
  const appended = Math.round(rows.length * plan.appendShare)
  for (let i = 0; i < appended; i++) next.push(makeRow(random))
  return next
}

export function rowsToBytes (rows: string[]): Buffer {
  return Buffer.from(rows.join('\n') + '\n')
}
