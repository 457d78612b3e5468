import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { isBaseError } from '@commons/errors'
import { NodeError } from './context.ts'
import type { NetworkNode } from './network.ts'
import type { InferenceAnswer, InferenceRequest, Provider } from './roles/provider.ts'

/**
 * Inference over libp2p: one stream per request. The client writes the request as one
 * length-prefixed JSON message; the provider answers with `{token}` messages as the text
 * is made, then one `{answer}` (with the receipt) or one `{error}`, and closes.
 */
export const INFER_PROTOCOL = '/commons/infer/1.0.0'
const MAX_MESSAGE = 1 << 20

type Message = { token: string } | { answer: InferenceAnswer } | { error: { name: string, message: string, hint?: string, details?: Record<string, unknown> } }

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
const decode = (bytes: { subarray: () => Uint8Array }): unknown => JSON.parse(new TextDecoder().decode(bytes.subarray()))

/** A provider's refusal or failure, as the client sees it: `details.name` is the provider's error name. */
export class RemoteInferenceError extends NodeError {
  override name = 'RemoteInferenceError'
}

/** The answer broke off: the stream was reset or closed before an answer, or carried something else than this protocol's messages. */
export class InferenceStreamError extends NodeError {
  override name = 'InferenceStreamError'
}

/** Serves `provider` on the network's inference protocol. */
export async function serveInference (network: NetworkNode, provider: Provider, log: (line: string) => void = () => {}): Promise<void> {
  await network.handle(INFER_PROTOCOL, async (stream: Stream, from: string) => {
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE })
    try {
      const request = decode(await lp.read()) as InferenceRequest
      const pending: Array<Promise<void>> = []
      const answer = await provider.answer(request, token => { pending.push(lp.write(encode({ token } satisfies Message))) })
      await Promise.all(pending)
      await lp.write(encode({ answer } satisfies Message))
    } catch (error) {
      const e = error as Error & { hint?: string, details?: Record<string, unknown> }
      if (!isBaseError(error)) log(`inference request from ${from}: ${e.message}`)
      await lp.write(encode({ error: { name: e.name, message: e.message, hint: e.hint, details: isBaseError(error) ? e.details : undefined } } satisfies Message)).catch(() => {})
    } finally {
      await stream.close().catch(() => {})
    }
  })
}

/** Asks `peer` (a multiaddr or a connected peer id) for an answer; `onToken` gets the text as it streams. */
export async function requestInference (network: NetworkNode, peer: string, request: InferenceRequest, onToken?: (text: string) => void): Promise<InferenceAnswer> {
  const stream = await network.dialProtocol(peer, INFER_PROTOCOL)
  const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE })
  try {
    await lp.write(encode(request))
    for (;;) {
      const message = decode(await lp.read()) as Message
      if ('token' in message) { onToken?.(message.token); continue }
      if ('answer' in message) return message.answer
      throw new RemoteInferenceError(`${peer} refused: ${message.error.message}`, {
        hint: message.error.hint, details: { ...message.error.details, name: message.error.name }
      })
    }
  } catch (error) {
    if (isBaseError(error)) throw error
    throw new InferenceStreamError(`the answer from ${peer} broke off: ${(error as Error).message}`, {
      hint: 'ask again: the connection dropped or the provider stopped (the voucher you sent is the most it can claim for this answer)', details: { peer }, cause: error
    })
  } finally {
    await stream.close().catch(() => {})
  }
}
