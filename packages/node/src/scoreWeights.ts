import type { ServiceWeight } from '@commons/chain'

/** What a scorer found of one service over an epoch's probes. */
export interface ServiceScore {
  service: bigint
  /** Probes sent, answered (any answer with a receipt), answered correctly (replayed token for token). */
  sent: number
  answered: number
  correct: number
  /** Answers that did not replay, or whose receipt named another model, prompt or signer. */
  wrong: number
  /** Median milliseconds from request to answer, over the answered probes (null: none answered). */
  medianLatencyMs: number | null
}

/** The weight a perfect service gets; the contract normalises, so only ratios matter. */
export const WEIGHT_SCALE = 1_000_000

/**
 * Weights from measurements. A wrong answer is a fact, not an opinion: one of them zeroes
 * the service for the epoch. Otherwise availability (correct answers per probe) times
 * speed (the fastest median latency over this one's), so a slow honest provider still
 * earns, less.
 */
export function weightsFromScores (scores: readonly ServiceScore[]): ServiceWeight[] {
  const latencies = scores.filter(s => s.wrong === 0 && s.correct > 0 && s.medianLatencyMs !== null).map(s => Math.max(1, s.medianLatencyMs ?? 0))
  const fastest = latencies.length === 0 ? 1 : Math.min(...latencies)
  return scores.map(s => {
    if (s.wrong > 0 || s.correct === 0 || s.sent === 0 || s.medianLatencyMs === null) return { service: s.service, weight: 0n }
    const availability = s.correct / s.sent
    const speed = fastest / Math.max(1, s.medianLatencyMs)
    return { service: s.service, weight: BigInt(Math.round(WEIGHT_SCALE * availability * speed)) }
  })
}

/** The median of `values` (the lower middle for an even count); null for none. */
export function median (values: readonly number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}
