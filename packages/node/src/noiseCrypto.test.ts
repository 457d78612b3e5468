import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { noise } from '@libp2p/noise'
import { defaultCrypto } from '@libp2p/noise/crypto'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2p } from 'libp2p'
import { Uint8ArrayList } from 'uint8arraylist'
import { noiseCrypto } from './noiseCrypto.ts'

/** As a Buffer, so that equal bytes compare equal whatever array type carried them. */
const flat = (bytes: Uint8Array | Uint8ArrayList): Buffer => Buffer.from(bytes instanceof Uint8Array ? bytes : bytes.subarray())
const nonce = (n: number): Uint8Array => { const out = new Uint8Array(12); new DataView(out.buffer).setUint32(4, n, true); return out }
const SIZES = [0, 17, 1199, 1200, 4096, 65519]

describe('noise crypto (key imported once, no joining copy)', () => {
  it('seals and opens exactly as noise\'s default crypto does, both ways, whole or in parts', () => {
    const k = randomBytes(32)
    const ad = randomBytes(32)
    for (const [i, size] of SIZES.entries()) {
      const plaintext = randomBytes(size)
      const parts = new Uint8ArrayList(plaintext.subarray(0, size >> 1), plaintext.subarray(size >> 1))
      const ours = flat(noiseCrypto.chaCha20Poly1305Encrypt(parts, nonce(i), ad, k))
      const theirs = flat(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce(i), ad, k))
      assert.deepEqual(ours, theirs, `${size} bytes`)
      assert.deepEqual(flat(noiseCrypto.chaCha20Poly1305Decrypt(theirs, nonce(i), ad, k)), plaintext)
      const split = new Uint8ArrayList(theirs.subarray(0, 5), theirs.subarray(5))
      assert.deepEqual(flat(noiseCrypto.chaCha20Poly1305Decrypt(split, nonce(i), ad, k)), plaintext)
      assert.deepEqual(flat(defaultCrypto.chaCha20Poly1305Decrypt(ours, nonce(i), ad, k)), plaintext)
    }
  })

  it('refuses a message whose bytes or tag were changed', () => {
    const k = randomBytes(32)
    const sealed = Buffer.from(flat(noiseCrypto.chaCha20Poly1305Encrypt(randomBytes(65519), nonce(1), new Uint8Array(0), k)))
    for (const at of [0, sealed.length - 1]) {
      const tampered = Buffer.from(sealed)
      tampered[at] ^= 1
      assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(tampered, nonce(1), new Uint8Array(0), k))
    }
  })

  it('never uses a key it imported once the key\'s bytes have changed in place', () => {
    const k = randomBytes(32)
    const plaintext = randomBytes(8192)
    noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce(0), new Uint8Array(0), k)
    k[0] ^= 0xff
    const ours = flat(noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce(0), new Uint8Array(0), k))
    assert.deepEqual(ours, flat(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce(0), new Uint8Array(0), k)))
  })

  it('carries a stream between a node using it and a node on noise\'s defaults, every byte intact', async () => {
    const peer = async (crypto?: typeof noiseCrypto): Promise<Libp2p> => createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise({ crypto })], streamMuxers: [yamux()]
    })
    const ours = await peer(noiseCrypto)
    const theirs = await peer()
    try {
      const payload = randomBytes(8 << 20)
      await theirs.handle('/commons/test/echo/1.0.0', async stream => {
        for await (const chunk of stream) stream.send(chunk)
        await stream.close()
      })
      const stream = await ours.dialProtocol(theirs.getMultiaddrs()[0], '/commons/test/echo/1.0.0')
      const received = new Uint8ArrayList()
      const reading = (async () => { for await (const chunk of stream) received.append(chunk) })()
      for (let at = 0; at < payload.length; at += 1 << 20) {
        if (!stream.send(payload.subarray(at, at + (1 << 20)))) await new Promise(resolve => stream.addEventListener('drain', resolve, { once: true }))
      }
      await stream.close()
      await reading
      assert.equal(received.byteLength, payload.length)
      assert.ok(payload.equals(received.subarray()))
    } finally {
      await ours.stop()
      await theirs.stop()
    }
  })
})
