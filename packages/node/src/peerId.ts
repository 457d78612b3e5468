import { peerIdFromString } from '@libp2p/peer-id'
import type { Hex } from 'viem'

/** A peer id as the StakeRegistry keeps it: its multihash bytes. */
export function peerIdBytes (peerId: string): Hex {
  return `0x${Buffer.from(peerIdFromString(peerId).toMultihash().bytes).toString('hex')}`
}
