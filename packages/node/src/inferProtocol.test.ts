import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lpStream } from '@libp2p/utils'
import { openStore, type Store } from '@commons/store'
import { INFER_PROTOCOL, InferenceStreamError, requestInference } from './inferProtocol.ts'
import { startNetwork, type NetworkNode } from './network.ts'

// A provider that breaks off, three ways; the client must say so plainly (a user saw
// "unexpected error … StreamResetError" when a connection was reset under a request).
const request = { prompt: 'the ', tokens: 4, voucher: { channel: '0x00', cumulative: '1', signature: '0x00' } } as unknown as Parameters<typeof requestInference>[2]
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

describe('inference protocol, client side', () => {
  let root: string
  let stores: Store[]
  let client: NetworkNode
  let provider: NetworkNode
  let address: string
  let behaviour: (lp: ReturnType<typeof lpStream>, abort: () => void) => Promise<void>

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'commons-infer-protocol-'))
    stores = [await openStore(join(root, 'a')), await openStore(join(root, 'b'))]
    client = await startNetwork({ blockstore: stores[0].blocks })
    provider = await startNetwork({ blockstore: stores[1].blocks })
    await provider.handle(INFER_PROTOCOL, async stream => {
      const lp = lpStream(stream)
      await lp.read()
      await behaviour(lp, () => { stream.abort(new Error('provider gave up')) })
      await stream.close().catch(() => {})
    })
    address = provider.multiaddrs()[0]
  })
  after(async () => {
    await client.stop()
    await provider.stop()
    for (const store of stores) await store.close()
    await rm(root, { recursive: true, force: true })
  })

  const brokeOff = (error: unknown): boolean => {
    assert.ok(error instanceof InferenceStreamError, `expected InferenceStreamError, got ${String(error)}`)
    assert.match(error.message, /^the answer from .* broke off: /)
    assert.match(error.hint ?? '', /ask again/)
    return true
  }

  it('says the answer broke off when the provider resets the stream after some tokens', async () => {
    behaviour = async (lp, abort) => { await lp.write(encode({ token: 'a' })); abort() }
    const tokens: string[] = []
    await assert.rejects(requestInference(client, address, request, t => tokens.push(t)), brokeOff)
    assert.deepEqual(tokens, ['a'])
  })

  it('says the answer broke off when the provider closes without an answer', async () => {
    behaviour = async lp => { await lp.write(encode({ token: 'a' })) }
    await assert.rejects(requestInference(client, address, request), brokeOff)
  })

  it('says the answer broke off when the provider sends something else than the protocol', async () => {
    behaviour = async lp => { await lp.write(new TextEncoder().encode('<html>')) }
    await assert.rejects(requestInference(client, address, request), brokeOff)
  })

  it('still reports a provider\'s refusal as its own', async () => {
    behaviour = async lp => { await lp.write(encode({ error: { name: 'VoucherTooLowError', message: 'too low', hint: 'pay more' } })) }
    await assert.rejects(requestInference(client, address, request), (error: Error & { details?: { name?: string } }) =>
      error.name === 'RemoteInferenceError' && error.details?.name === 'VoucherTooLowError' && /refused: too low/.test(error.message))
  })
})
