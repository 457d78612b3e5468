/**
 * Canonical binary32 numerics (docs/design.md §4). Every function here is a fixed sequence
 * of binary32 + − × ÷, square root (IEEE, correctly rounded), comparisons and exact
 * bit manipulation of exponents, so any machine, backend or contract that follows
 * the same sequence gets the same bits. `Math.fround` after each operation makes
 * JavaScript's binary64 arithmetic exactly binary32 (double rounding is innocuous for
 * these operations). No Math.exp/log/sin/cos/pow: JavaScript leaves them open.
 */
import type { BinaryOp, UnaryOp } from './opcodes.ts'

export const f = Math.fround

const bits = new Uint32Array(1)
const float = new Float32Array(bits.buffer)

export function f32FromBits (b: number): number {
  bits[0] = b
  return float[0]
}

export function f32Bits (x: number): number {
  float[0] = x
  return bits[0]
}

/** 2^e as a binary32, exactly, for -126 <= e <= 127. */
function pow2 (e: number): number {
  return f32FromBits((e + 127) << 23)
}

/** x · 2^k with a single rounding, for the k range expf needs. */
function scale2 (x: number, k: number): number {
  if (k > 127) return f(f(x * pow2(127)) * pow2(k - 127))
  if (k < -126) return f(f(x * pow2(k + 126)) * pow2(-126))
  return f(x * pow2(k))
}

const LOG2E = f(1.4426950408889634)
const LN2_HI = f(0.693145751953125) // 16 significant bits: k · LN2_HI is exact
const LN2_LO = f(1.428606765330187e-6)
const ROUND = 12582912 // 1.5 · 2^23: adding and subtracting rounds to an integer (ties to even)
const EXP_MAX = f(88.72283935546875)
const EXP_MIN = f(-103.97208404541016)

const E6 = f(1 / 720)
const E5 = f(1 / 120)
const E4 = f(1 / 24)
const E3 = f(1 / 6)
const E2 = f(0.5)

/** e^x: Cody–Waite reduction by ln 2, then a degree-6 Taylor polynomial on |r| <= ln2/2. */
export function expf (x: number): number {
  if (x !== x) return NaN
  if (x > EXP_MAX) return Infinity
  if (x < EXP_MIN) return 0
  const k = f(f(f(x * LOG2E) + ROUND) - ROUND)
  const r = f(f(x - f(k * LN2_HI)) - f(k * LN2_LO))
  let p = E6
  p = f(f(p * r) + E5)
  p = f(f(p * r) + E4)
  p = f(f(p * r) + E3)
  p = f(f(p * r) + E2)
  p = f(f(p * r) + 1)
  p = f(f(p * r) + 1)
  return scale2(p, k)
}

const SQRT2 = f(1.4142135623730951)
const L9 = f(2 / 9)
const L7 = f(2 / 7)
const L5 = f(2 / 5)
const L3 = f(2 / 3)

/** ln x: x = m · 2^e with m in [√½, √2], then ln m = 2 atanh(s), s = (m−1)/(m+1). */
export function logf (x: number): number {
  if (x !== x || x < 0) return NaN
  if (x === 0) return -Infinity
  if (x === Infinity) return Infinity
  let e = 0
  if (x < pow2(-126)) { x = f(x * pow2(23)); e = -23 } // subnormal: scale up exactly
  const b = f32Bits(x)
  e += ((b >>> 23) & 0xff) - 127
  let m = f32FromBits((b & 0x7fffff) | 0x3f800000)
  if (m > SQRT2) { m = f(m * 0.5); e += 1 }
  const s = f(f(m - 1) / f(m + 1))
  const z = f(s * s)
  let p = L9
  p = f(f(p * z) + L7)
  p = f(f(p * z) + L5)
  p = f(f(p * z) + L3)
  p = f(f(p * z) + 2)
  const lnm = f(s * p)
  return f(f(e * LN2_HI) + f(f(e * LN2_LO) + lnm))
}

/** Correctly rounded binary32 square root (an IEEE basic operation like ÷). */
export function sqrtf (x: number): number {
  return f(Math.sqrt(x))
}

const TWO_OVER_PI = f(0.6366197723675814)
const PIO2_1 = f(1.5703125) // π/2 in three parts, each product with k exact for |k| < 2^8
const PIO2_2 = f(4.837512969970703e-4)
const PIO2_3 = f(7.549789948768648e-8)

const S7 = f(-1 / 5040)
const S5 = f(1 / 120)
const S3 = f(-1 / 6)
const C8 = f(1 / 40320)
const C6 = f(-1 / 720)
const C4 = f(1 / 24)
const C2 = f(-0.5)

function sinPoly (r: number): number {
  const z = f(r * r)
  let p = S7
  p = f(f(p * z) + S5)
  p = f(f(p * z) + S3)
  return f(r + f(f(r * z) * p))
}

function cosPoly (r: number): number {
  const z = f(r * r)
  let p = C8
  p = f(f(p * z) + C6)
  p = f(f(p * z) + C4)
  p = f(f(p * z) + C2)
  return f(f(z * p) + 1)
}

/** Reduces x by multiples of π/2: returns the quadrant and the remainder in [-π/4, π/4]. */
function reduce (x: number): [number, number] {
  const k = f(f(f(x * TWO_OVER_PI) + ROUND) - ROUND)
  const r = f(f(f(x - f(k * PIO2_1)) - f(k * PIO2_2)) - f(k * PIO2_3))
  return [((k % 4) + 4) % 4, r]
}

/** sin x for |x| < 256 (enough for RoPE tables and schedules; wider inputs lose accuracy, never determinism). */
export function sinf (x: number): number {
  if (x !== x || x === Infinity || x === -Infinity) return NaN
  const [q, r] = reduce(x)
  return q === 0 ? sinPoly(r) : q === 1 ? cosPoly(r) : q === 2 ? f(-sinPoly(r)) : f(-cosPoly(r))
}

/** cos x for |x| < 256. */
export function cosf (x: number): number {
  if (x !== x || x === Infinity || x === -Infinity) return NaN
  const [q, r] = reduce(x)
  return q === 0 ? cosPoly(r) : q === 1 ? f(-sinPoly(r)) : q === 2 ? f(-cosPoly(r)) : sinPoly(r)
}

/** The per-element program of each binary op (the engine's kernels and the verifier's provers follow it). */
export const binaryProgram: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => f(a + b),
  sub: (a, b) => f(a - b),
  mul: (a, b) => f(a * b),
  div: (a, b) => f(a / b),
  // NaN propagates from either side; of two zeros, +0 (a >= b picks a: max(+0, -0) = +0).
  max: (a, b) => (a !== a || b !== b) ? NaN : (a > b || (a === b && !(Object.is(a, -0) && Object.is(b, 0))) ? a : b),
  cmpge: (a, b) => (a >= b ? 1 : 0)
}

/** The per-element program of each unary op. */
export const unaryProgram: Record<UnaryOp, (a: number) => number> = {
  neg: a => -a,
  exp: expf,
  log: logf,
  sqrt: sqrtf,
  recip: a => f(1 / a)
}
