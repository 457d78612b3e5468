/**
 * binary32 → binary16 bit patterns, rounded to nearest, ties to even (IEEE 754), for
 * exporting weights as F16. Overflow goes to ±∞, NaN stays NaN (quiet).
 */
const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

export function f16Bits (x: number): number {
  f32[0] = x
  const bits = u32[0]
  const sign = (bits >>> 16) & 0x8000
  const exp = (bits >>> 23) & 0xff
  const mant = bits & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0)
  const e = exp - 127 + 15
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    // Subnormal in binary16 (or zero): shift the full significand into place, then round.
    if (e < -10) return sign
    const full = mant | 0x800000
    const shift = 14 - e
    const half = 1 << (shift - 1)
    const rest = full & ((1 << shift) - 1)
    let out = full >>> shift
    if (rest > half || (rest === half && (out & 1) === 1)) out++
    return sign | out
  }
  let out = (e << 10) | (mant >>> 13)
  const rest = mant & 0x1fff
  if (rest > 0x1000 || (rest === 0x1000 && (out & 1) === 1)) out++ // may carry into the exponent: still right
  return sign | out
}

/** F16 bytes (little-endian) of binary32 values. */
export function toF16Bytes (values: Float32Array): Uint8Array {
  const out = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) out[i] = f16Bits(values[i])
  return new Uint8Array(out.buffer)
}

