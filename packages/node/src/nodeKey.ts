import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'

/**
 * A new Ed25519 node key as protobuf bytes, the form a caller stores (e.g. under the
 * home) and hands back to `startNetwork` so the node keeps its peer id across restarts.
 */
export async function createNodeKey (): Promise<Uint8Array> {
  return privateKeyToProtobuf(await generateKeyPair('Ed25519'))
}

/** Accepts a stored key (protobuf bytes) or a key object. */
export function toPrivateKey (key: Uint8Array | PrivateKey): PrivateKey {
  return key instanceof Uint8Array ? privateKeyFromProtobuf(key) : key
}

/** The peer id a node started with `key` will have. */
export function peerIdOfNodeKey (key: Uint8Array | PrivateKey): string {
  return peerIdFromPrivateKey(toPrivateKey(key)).toString()
}
