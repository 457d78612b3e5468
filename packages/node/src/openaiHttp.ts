import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { VoucherJson } from '@commons/chain'
import { isBaseError } from '@commons/errors'
import { BadInferenceRequestError, PAYMENT_ERRORS } from './inferenceErrors.ts'
import type { InferenceAnswer, InferenceRequest, Provider } from './roles/provider.ts'

/**
 * A provider's OpenAI-compatible HTTP API, so existing clients and agents work unchanged:
 *   GET  /v1/models             the served model
 *   POST /v1/completions        {model, prompt, max_tokens, temperature, top_p, seed, stream}
 *   POST /v1/chat/completions   {model, messages, ...the same}
 * plus `top_k`. Each request is paid by a voucher in the `x-commons-voucher` header (its
 * JSON: {channel, cumulative, signature}) or a `voucher` field of the body. Answers carry
 * the signed receipt as a `receipt` field with the token ids it hashes as `output_tokens` (and the `x-commons-receipt` header); a stream
 * (server-sent events) carries it on its last chunk. A refused payment is a 402 whose
 * error code names the reason (VoucherTooLowError, ChannelOverspentError, ...).
 */

export interface InferenceHttpServer {
  url: string
  close(): Promise<void>
}

/** OpenAI's default when max_tokens is left out. */
const DEFAULT_COMPLETION_TOKENS = 16
const MAX_BODY_BYTES = 1 << 20

interface OpenAiBody {
  model?: string
  prompt?: string | string[]
  messages?: Array<{ role: string, content: string | Array<{ type: string, text?: string }> }>
  max_tokens?: number
  max_completion_tokens?: number
  temperature?: number
  top_p?: number
  top_k?: number
  seed?: number
  stream?: boolean
  voucher?: VoucherJson
}

/** A chat as one prompt: a line per message, then the assistant's turn. */
export function chatPrompt (messages: NonNullable<OpenAiBody['messages']>): string {
  const text = (c: string | Array<{ type: string, text?: string }>): string => typeof c === 'string' ? c : c.map(p => p.text ?? '').join('')
  return messages.map(m => `${m.role}: ${text(m.content)}\n`).join('') + 'assistant:'
}

async function readBody (request: IncomingMessage): Promise<OpenAiBody> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new BadInferenceRequestError(`the request body is over ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as OpenAiBody
  } catch (cause) {
    throw new BadInferenceRequestError('the request body is not JSON', { cause })
  }
}

function toRequest (body: OpenAiBody, header: string | undefined, chat: boolean, provider: Provider): InferenceRequest {
  if (body.model !== undefined && body.model !== provider.model.name && body.model !== provider.model.root) {
    throw new BadInferenceRequestError(`this provider serves ${provider.model.name}, not ${body.model}`, { hint: 'GET /v1/models lists it' })
  }
  let voucher = body.voucher
  if (header !== undefined) {
    try {
      voucher = JSON.parse(header) as VoucherJson
    } catch (cause) {
      throw new BadInferenceRequestError('the x-commons-voucher header is not JSON', { cause })
    }
  }
  if (voucher === undefined) throw new BadInferenceRequestError('the request carries no voucher', { hint: 'send one in the x-commons-voucher header' })
  const prompt = chat ? chatPrompt(body.messages ?? []) : Array.isArray(body.prompt) ? body.prompt.join('') : body.prompt ?? ''
  return {
    prompt,
    tokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_COMPLETION_TOKENS,
    seed: body.seed,
    temperature: body.temperature,
    topK: body.top_k,
    topP: body.top_p,
    voucher
  }
}

function errorStatus (error: unknown): number {
  const name = (error as Error).name
  if (PAYMENT_ERRORS.has(name)) return 402
  if (name === 'BadInferenceRequestError') return 400
  return 500
}

export async function startInferenceHttp (provider: Provider, options: { port?: number, host?: string } = {}): Promise<InferenceHttpServer> {
  const sendJson = (response: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void => {
    response.writeHead(code, { 'content-type': 'application/json', ...headers })
    response.end(JSON.stringify(body))
  }
  const sendError = (response: ServerResponse, error: unknown): void => {
    const e = error as Error & { hint?: string, details?: Record<string, unknown> }
    const code = errorStatus(error)
    const message = isBaseError(error) && e.hint !== undefined ? `${e.message}; ${e.hint}` : e.message
    if (response.headersSent) {
      response.end(`data: ${JSON.stringify({ error: { message, type: 'server_error', code: e.name } })}\n\n`)
      return
    }
    sendJson(response, code, { error: { message, type: code === 402 ? 'payment_required' : code === 400 ? 'invalid_request_error' : 'server_error', code: e.name, param: null, details: isBaseError(error) ? e.details : undefined } })
  }

  async function complete (request: IncomingMessage, response: ServerResponse, chat: boolean): Promise<void> {
    const body = await readBody(request)
    const header = request.headers['x-commons-voucher']
    const inference = toRequest(body, Array.isArray(header) ? header[0] : header, chat, provider)
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`
    const created = Math.floor(Date.now() / 1000)
    const base = { id, object: chat ? 'chat.completion' : 'text_completion', created, model: provider.model.name }
    const choice = (text: string, finish: string | null): Record<string, unknown> => chat
      ? { index: 0, [body.stream === true ? 'delta' : 'message']: body.stream === true ? { content: text } : { role: 'assistant', content: text }, finish_reason: finish, logprobs: null }
      : { index: 0, text, finish_reason: finish, logprobs: null }
    const usage = (a: InferenceAnswer): Record<string, number> => ({ prompt_tokens: a.promptTokens, completion_tokens: a.outputTokens.length, total_tokens: a.promptTokens + a.outputTokens.length })
    if (body.stream !== true) {
      const answer = await provider.answer(inference)
      sendJson(response, 200, { ...base, choices: [choice(answer.text, 'length')], usage: usage(answer), receipt: answer.receipt, output_tokens: answer.outputTokens }, { 'x-commons-receipt': JSON.stringify(answer.receipt) })
      return
    }
    const chunkBase = { ...base, object: chat ? 'chat.completion.chunk' : 'text_completion' }
    const event = (data: unknown): void => { response.write(`data: ${JSON.stringify(data)}\n\n`) }
    // The stream starts with the first token: a refused payment is still a plain 402.
    const answer = await provider.answer(inference, text => {
      if (!response.headersSent) response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
      event({ ...chunkBase, choices: [choice(text, null)] })
    })
    event({ ...chunkBase, choices: [choice('', 'length')], usage: usage(answer), receipt: answer.receipt, output_tokens: answer.outputTokens })
    response.end('data: [DONE]\n\n')
  }

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '')
    const route = async (): Promise<void> => {
      if (request.method === 'GET' && path === '/v1/models') {
        sendJson(response, 200, { object: 'list', data: [{ id: provider.model.name, object: 'model', created: 0, owned_by: provider.address, root: provider.model.root, price_per_1k: String(provider.pricePer1k) }] })
        return
      }
      if (request.method === 'POST' && path === '/v1/completions') return complete(request, response, false)
      if (request.method === 'POST' && path === '/v1/chat/completions') return complete(request, response, true)
      sendJson(response, 404, { error: { message: `no route ${request.method ?? ''} ${path}; try GET /v1/models, POST /v1/completions or /v1/chat/completions`, type: 'invalid_request_error', code: 'not_found' } })
    }
    route().catch(error => { sendError(response, error) })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
