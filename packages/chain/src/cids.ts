import { bytesToHex, hexToBytes, type Hex } from 'viem'
import { CID } from 'multiformats/cid'
import { InvalidChainInputError } from './errors.ts'

/** Contracts keep CIDs as their binary form (`bytes`). */
export function cidToHex (cid: CID | string): Hex {
  try {
    return bytesToHex((typeof cid === 'string' ? CID.parse(cid) : cid).bytes)
  } catch (cause) {
    throw new InvalidChainInputError(`"${String(cid)}" is not a valid CID`, { hint: 'pass a CID such as bafyrei...', cause })
  }
}

/** The CID stored as `bytes`, or null for empty bytes. */
export function hexToCid (hex: Hex): CID | null {
  if (hex === '0x') return null
  return CID.decode(hexToBytes(hex))
}
