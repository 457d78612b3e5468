import type { Hex } from 'viem'

/** The bytes of a 0x-prefixed hex string. */
export function hexBytes (hex: Hex): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'))
}

/** Bytes (a hash, a word string) as 0x-prefixed hex. */
export function toHex (bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes).toString('hex')}`
}
