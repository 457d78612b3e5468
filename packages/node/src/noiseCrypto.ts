import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto'
import { defaultCrypto } from '@libp2p/noise/crypto'
import type { ICryptoInterface } from '@libp2p/noise'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * noise's own crypto (`@libp2p/noise/crypto`: node:crypto's ChaCha20-Poly1305 for
 * messages from 1,200 bytes, WebAssembly below), with two costs of its bulk path taken
 * out, both seen in CPU profiles of a whole-DAG transfer:
 * - the session key was imported anew for every 64 KiB message (`createCipheriv` with
 *   raw key bytes makes a key object each time); here it is imported once per key and
 *   kept as a `KeyObject`, next to a copy of its bytes that is compared on every use,
 *   so a key changed in place is never used stale;
 * - each sealed message was copied once more to join ciphertext and tag; here both go
 *   out as a list (noise appends them to its output as they are).
 */
export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
    if (plaintext.byteLength < SMALL_MESSAGE) return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    const cipher = createCipheriv(CIPHER, keyObject(k), nonce, { authTagLength: TAG_LENGTH })
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    const sealed = new Uint8ArrayList()
    for (const part of plaintext instanceof Uint8Array ? [plaintext] : plaintext) sealed.append(cipher.update(part))
    const rest = cipher.final()
    if (rest.byteLength > 0) sealed.append(rest)
    sealed.append(cipher.getAuthTag())
    return sealed
  },
  chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength < SMALL_MESSAGE) return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
    const decipher = createDecipheriv(CIPHER, keyObject(k), nonce, { authTagLength: TAG_LENGTH })
    const length = ciphertext.byteLength - TAG_LENGTH
    decipher.setAAD(ad, { plaintextLength: length })
    decipher.setAuthTag(ciphertext.subarray(length))
    if (ciphertext instanceof Uint8Array) {
      const opened = decipher.update(ciphertext.subarray(0, length))
      const rest = decipher.final()
      return rest.byteLength > 0 ? Buffer.concat([opened, rest]) : opened
    }
    const opened = new Uint8ArrayList()
    for (const part of ciphertext.sublist(0, length)) opened.append(decipher.update(part))
    const rest = decipher.final()
    if (rest.byteLength > 0) opened.append(rest)
    return opened
  }
}

const CIPHER = 'chacha20-poly1305'
const TAG_LENGTH = 16
/** Below this the library's WebAssembly cipher is faster than node:crypto's (its own threshold). */
const SMALL_MESSAGE = 1200

/** Imported keys by the byte array noise holds each in, with the bytes they were imported from. */
const imported = new WeakMap<Uint8Array, { bytes: Buffer, key: KeyObject }>()

function keyObject (k: Uint8Array): KeyObject {
  const known = imported.get(k)
  if (known?.bytes.equals(k) === true) return known.key
  const bytes = Buffer.from(k)
  const key = createSecretKey(bytes)
  imported.set(k, { bytes, key })
  return key
}
