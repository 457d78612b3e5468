import { BaseError } from '@commons/errors'
import { EMPTY, hashPair, leafHashes, toHex, wordOf, type Hash, type TensorData } from '@commons/protocol'

/**
 * The challenger's side of a value request (DisputeGame.requestValues): from the leaves
 * the trainer revealed and the siblings of their range proof, either the first element
 * where the trainer's op output differs from the honest one, or the next range to ask
 * for. A sibling that differs from the honest tree's node at its place is a subtree that
 * holds a difference, so each request walks down to a smaller one (docs/step-program.md).
 */

/** The most leaves one request may ask for (DisputeGame.MAX_REQUEST_LEAVES). */
export const MAX_REQUEST_LEAVES = 512

export interface Revealed {
  firstLeaf: number
  /** Element words, 8 per leaf, as the trainer committed them. */
  words: number[]
  /** Siblings of the range, bottom level up, left boundary first (TensorMerkle order). */
  siblings: Hash[]
}

export class ValuesWalkError extends BaseError {
  override name = 'ValuesWalkError'
}

export type NextStep = { element: number } | { firstLeaf: number, leaves: number }

/** Every level of the honest tensor's tree, leaves first. */
export function treeLevels (tensor: TensorData): Hash[][] {
  const levels = [leafHashes(tensor)]
  for (let height = 0; levels[height].length > 1; height++) {
    const level = levels[height]
    const next: Hash[] = []
    for (let i = 0; i < level.length; i += 2) next.push(hashPair(level[i], level[i + 1] ?? EMPTY[height]))
    levels.push(next)
  }
  return levels
}

/** The first request: the leaves from the start, as many as one request may hold. */
export function firstRequest (honest: TensorData): { firstLeaf: number, leaves: number } {
  return { firstLeaf: 0, leaves: Math.min(MAX_REQUEST_LEAVES, Math.ceil(honest.data.length / 8)) }
}

/** The first op whose posted output root departs from the replay's `mine`, or -1: where both games look for the lie. */
export function firstDepartingOp (posted: readonly Hash[], mine: readonly Hash[]): number {
  return posted.findIndex((r, i) => toHex(r) !== toHex(mine[i]))
}

/** The walk's next step on op `op`'s honest output, given the last values revealed (of this op or another). */
export function walkStep (honest: TensorData, op: number, revealed: (Revealed & { op: number }) | undefined): NextStep {
  return revealed === undefined || revealed.op !== op ? firstRequest(honest) : nextStep(honest, treeLevels(honest), revealed)
}

export function nextStep (honest: TensorData, levels: Hash[][], revealed: Revealed): NextStep {
  const base = revealed.firstLeaf * 8
  for (let k = 0; k < revealed.words.length; k++) {
    const e = base + k
    const mine = e < honest.data.length ? wordOf(honest.data[e], honest.dtype) : 0
    if (revealed.words[k] !== mine) return { element: Math.min(e, honest.data.length - 1) }
  }
  // The revealed leaves agree: find the lowest sibling that differs from the honest node.
  let lo = revealed.firstLeaf
  let hi = lo + revealed.words.length / 8 - 1
  let next = 0
  for (let height = 0; height < levels.length - 1; height++) {
    const size = levels[height].length
    const places: number[] = []
    if (lo % 2 === 1) places.push(lo - 1)
    if (hi % 2 === 0 && hi + 1 < size) places.push(hi + 1)
    for (const index of places) {
      const sibling = revealed.siblings[next++]
      if (sibling !== undefined && toHex(sibling) !== toHex(levels[height][index])) {
        const firstLeaf = index * 2 ** height
        const leaves = Math.min(MAX_REQUEST_LEAVES, 2 ** height, levels[0].length - firstLeaf)
        return { firstLeaf, leaves }
      }
    }
    lo = Math.floor(lo / 2)
    hi = Math.floor(hi / 2)
  }
  throw new ValuesWalkError('the revealed range and its siblings agree with the honest output: nothing differs there')
}
