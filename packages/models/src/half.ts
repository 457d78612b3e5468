/**
 * binary32 → binary16 for exporting weights as F16: the JavaScript engine's own
 * Float16Array (round to nearest, ties to even; overflow to ±∞; NaN stays NaN).
 */

/** The binary16 bit pattern of x. */
export function f16Bits (x: number): number {
  return new Uint16Array(new Float16Array([x]).buffer)[0]
}

/** F16 bytes (little-endian) of binary32 values. */
export function toF16Bytes (values: Float32Array): Uint8Array {
  return new Uint8Array(new Float16Array(values).buffer)
}
