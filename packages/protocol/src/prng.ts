/**
 * Counter-based randomness (docs/design.md §4): every random number is a pure function of
 * (seed, purpose, index), so any single value (one weight's initial value, one
 * batch's start offset) can be recomputed alone. The mixer is Wellons' lowbias32,
 * applied once per key word: plain 32-bit xor, shift and multiply, easy to repeat in
 * any language or contract.
 */

/** What a random stream is for; part of the key, so streams never overlap. */
export const PURPOSE = {
  /** Initial value of parameter slot s uses purpose INIT_BASE + s. */
  INIT_BASE: 0x1000,
  DATA: 2,
  DROPOUT: 3,
  SAMPLE: 4
} as const

function mix (x: number): number {
  x ^= x >>> 16
  x = Math.imul(x, 0x7feb352d)
  x ^= x >>> 15
  x = Math.imul(x, 0x846ca68b)
  x ^= x >>> 16
  return x >>> 0
}

/** A uniform 32-bit word for (seed, purpose, index); seed is up to 2^53. */
export function random32 (seed: number, purpose: number, index: number): number {
  const lo = seed >>> 0
  const hi = Math.floor(seed / 4294967296) >>> 0
  let h = mix(lo ^ 0x9e3779b9)
  h = mix(h ^ hi)
  h = mix(h ^ purpose)
  return mix(h ^ (index >>> 0))
}

/** A binary32 uniform in [0, 1): the top 24 bits of the word, scaled exactly. */
export function uniform (seed: number, purpose: number, index: number): number {
  return (random32(seed, purpose, index) >>> 8) * 5.960464477539063e-8
}
