import { join } from 'node:path'
import type { Address, Hex } from 'viem'
import { claimVoucher, readChannel, voucherFromJson, voucherSigner, type Clients, type Deployment, type ServedState, type VoucherJson } from '@commons/chain'
import { referenceContext, type EngineContext } from '@commons/engine'
import { startGenerationDefence } from '../generationDefence.ts'
import { startGenerationWorker } from '../generationWorker.ts'
import { BadInferenceRequestError, ChannelNotUsableError, ChannelOverspentError, InvalidVoucherError, VoucherReplayedError, VoucherTooLowError } from '../inferenceErrors.ts'
import { signReceipt, tokensHash, type Receipt, type SamplingParams } from '../receipt.ts'
import type { ServedModel } from '../servedModel.ts'
import { VoucherBook } from '../voucherBook.ts'

/**
 * The provider role: serves one model for pay. Each request brings a new voucher of the
 * client's channel to this provider, within the deposit; the best voucher must cover what
 * the channel has spent so far plus this request's cost (voucherBook.ts). The answer comes with a
 * receipt signed by the provider. Vouchers are kept in SQLite (voucherBook.ts) and the
 * best of each channel is claimed on-chain before the channel expires, by a timer, or
 * on demand. The transports (inferProtocol.ts for libp2p, openaiHttp.ts for HTTP) only
 * translate requests into `answer` calls.
 */

export interface InferenceRequest {
  prompt: string
  /** Tokens to generate (all are generated: the models have no end-of-text token). */
  tokens: number
  seed?: number | null
  temperature?: number
  topK?: number | null
  topP?: number | null
  voucher: VoucherJson
}

export interface InferenceAnswer {
  text: string
  promptTokens: number
  outputTokens: number[]
  receipt: Receipt
}

export interface ProviderComponents {
  clients: Clients
  deployment: Deployment
  /** What generates when `worker` is false (default: the reference kernels). */
  engine?: EngineContext
}

export interface ProviderInit {
  model: ServedModel
  /** Token units per 1,000 tokens, prompt and output. */
  pricePer1k: bigint
  /** Where the voucher book lives (`<home>/node/vouchers.db`). */
  home: string
  /** Generate in a worker thread (generationWorker.ts), so the node stays responsive and streams flow; default true. */
  worker?: boolean
  /** Most tokens one request may ask for (DEFAULT_MAX_TOKENS). */
  maxTokens?: number
  /** Seconds before a channel's expiry from which the provider claims it, and refuses new requests on it. */
  claimMarginSeconds?: number
  /** Milliseconds between looks for vouchers to claim; 0 never looks (claims are then made by `claimAll`). */
  claimPollMs?: number
  /** The ServiceRegistry id its receipts name (settable later: `serve` registers once the node listens). */
  service?: bigint
  /**
   * A deliberate lie (tests and the demo of the network's defences): the answer to the
   * `request`-th request (from 0) has its token `token` (default: the middle one) replaced
   * by the next id, and is signed as if it were the model's.
   */
  fault?: AnswerFault
  /**
   * Answer the disputes of its receipts on-chain (generationDefence.ts) with this state
   * (servedStateOf: the run's last checkpoint), looking every `pollMs`; left out, nobody
   * defends them and a disputed answer loses by timeout.
   */
  defence?: { state: ServedState, pollMs?: number }
  log?: (line: string) => void
}

export interface AnswerFault {
  /** The answer to lie on (from 0), or every answer from this one on with `every`. */
  request: number
  token?: number
  every?: boolean
}

export const DEFAULT_MAX_TOKENS = 1024
export const DEFAULT_CLAIM_MARGIN_SECONDS = 3600
export const DEFAULT_CLAIM_POLL_MS = 30_000

/** What `tokens` tokens cost at `pricePer1k`: rounded up, so no answer is free. */
export const costOf = (tokens: number, pricePer1k: bigint): bigint => (BigInt(tokens) * pricePer1k + 999n) / 1000n

export interface Provider {
  address: Address
  model: ServedModel
  pricePer1k: bigint
  book: VoucherBook
  /** The service its receipts name from now on. */
  setService(id: bigint): void
  /** One look at the disputes of its service, each answered (nothing without `defence`). */
  defend(): Promise<Array<{ id: bigint, name: string, gas: bigint }>>
  answer(request: InferenceRequest, onToken?: (text: string) => void): Promise<InferenceAnswer>
  /** Claims the best voucher of every channel that has unclaimed value (`due`: only those near expiry). */
  claimAll(options?: { due?: boolean }): Promise<Array<{ channel: Hex, claimed: bigint }>>
  stop(): Promise<void>
}

export function startProvider (components: ProviderComponents, init: ProviderInit): Provider {
  const { clients, deployment } = components
  const engine = components.engine ?? referenceContext()
  const log = init.log ?? (() => {})
  const margin = init.claimMarginSeconds ?? DEFAULT_CLAIM_MARGIN_SECONDS
  const maxTokens = init.maxTokens ?? DEFAULT_MAX_TOKENS
  const book = new VoucherBook(join(init.home, 'node', 'vouchers.db'))
  const me = clients.account.address
  let generator: ReturnType<typeof startGenerationWorker> | null = null
  let service = init.service ?? 0n
  let answered = 0
  const defence = init.defence === undefined
    ? null
    : startGenerationDefence({ clients, deployment }, { state: init.defence.state, pollMs: init.defence.pollMs, services: () => service === 0n ? [] : [service], log })
  const chainNow = async (): Promise<number> => Number((await clients.public.getBlock({ blockTag: 'latest' })).timestamp)

  /** The channel's state on-chain, checked against the voucher; throws the payment error that applies. */
  async function checkVoucher (json: VoucherJson, cost: bigint): Promise<{ client: Address, expiry: number, now: number }> {
    let voucher
    try {
      voucher = voucherFromJson(json)
    } catch (cause) {
      throw new InvalidVoucherError('the voucher is not {channel, cumulative, signature}', { hint: 'sign one with commons channel', cause })
    }
    const [channel, signer, now] = await Promise.all([readChannel(clients, deployment, voucher.channel), voucherSigner(deployment, voucher).catch(() => null), chainNow()])
    if (!channel.open) throw new ChannelNotUsableError(`channel ${voucher.channel} is not open`, { hint: 'open one with commons channel open', details: { channel: voucher.channel } })
    if (channel.provider.toLowerCase() !== me.toLowerCase()) {
      throw new InvalidVoucherError(`channel ${voucher.channel} pays ${channel.provider}, not this provider ${me}`, { hint: 'open a channel to this provider', details: { provider: channel.provider } })
    }
    if (signer === null || signer.toLowerCase() !== channel.client.toLowerCase()) {
      throw new InvalidVoucherError(`the voucher is signed by ${signer ?? 'nobody'}, not by the channel's client ${channel.client} (or for another chain or contract)`, {
        hint: 'sign vouchers with the key that opened the channel', details: { signer, client: channel.client }
      })
    }
    if (voucher.cumulative > channel.deposit) {
      throw new ChannelOverspentError(`the voucher promises ${voucher.cumulative}, the channel holds ${channel.deposit}`, {
        hint: 'top the channel up: commons channel topup', details: { cumulative: String(voucher.cumulative), deposit: String(channel.deposit) }
      })
    }
    if (Number(channel.expiry) - margin <= now) {
      throw new ChannelNotUsableError(`channel ${voucher.channel} expires at ${channel.expiry}, too soon to be paid through it`, {
        hint: 'extend it: commons channel topup --days N', details: { expiry: String(channel.expiry), now }
      })
    }
    const spent = book.spend(voucher, channel.client, Number(channel.expiry), cost)
    if (!spent.ok && spent.reason === 'replayed') {
      throw new VoucherReplayedError(`the voucher for ${voucher.cumulative} on channel ${voucher.channel} was used before`, {
        hint: `sign a new voucher, for at least ${spent.spent + cost}`, details: { cumulative: String(voucher.cumulative), spent: String(spent.spent) }
      })
    }
    if (!spent.ok) {
      throw new VoucherTooLowError(`the channel's vouchers cover ${spent.covered} but it has spent ${spent.spent} and this request costs ${cost}`, {
        hint: `sign a voucher for at least ${spent.spent + cost}`, details: { cumulative: String(voucher.cumulative), spent: String(spent.spent), cost: String(cost) }
      })
    }
    return { client: channel.client, expiry: Number(channel.expiry), now }
  }

  function samplingOf (request: InferenceRequest): SamplingParams {
    if (typeof request.prompt !== 'string' || request.prompt.length === 0) throw new BadInferenceRequestError('the request has no prompt', { hint: 'send {prompt, tokens, voucher}' })
    if (!Number.isInteger(request.tokens) || request.tokens < 1 || request.tokens > maxTokens) {
      throw new BadInferenceRequestError(`tokens must be an integer from 1 to ${maxTokens}, not ${request.tokens}`, { hint: 'ask for fewer tokens', details: { tokens: request.tokens, maxTokens } })
    }
    const temperature = request.temperature ?? 1
    // Greedy unless sampling is asked for; sampling without a seed gets one, written in the receipt.
    const sampled = (request.seed !== undefined && request.seed !== null) || (request.temperature !== undefined && request.temperature > 0)
    const seed = !sampled ? null : request.seed ?? Math.floor(Math.random() * 2 ** 32)
    if (seed !== null && (!Number.isSafeInteger(seed) || seed < 0)) throw new BadInferenceRequestError(`seed must be a non-negative integer, not ${seed}`)
    return { tokens: request.tokens, seed, temperature: seed === null ? 1 : temperature, topK: request.topK ?? null, topP: request.topP ?? null }
  }

  async function answer (request: InferenceRequest, onToken?: (text: string) => void): Promise<InferenceAnswer> {
    const params = samplingOf(request)
    const promptTokens = init.model.encode(request.prompt)
    const cost = costOf(promptTokens.length + params.tokens, init.pricePer1k)
    // The chain's clock dates the receipt: the one InferenceDisputes measures its dispute window by.
    const { now } = await checkVoucher(request.voucher, cost)
    const channel = request.voucher.channel
    let result
    try {
      result = init.worker === false
        ? await init.model.generate(engine, request.prompt, params, onToken)
        : await (generator ??= startGenerationWorker(init.model.dir)).generate(request.prompt, params, onToken)
    } catch (error) {
      book.refund(channel, cost)
      throw error
    }
    const spent = book.get(channel)?.spent ?? cost
    const output = lie(result.tokens, answered++)
    const receipt = await signReceipt(clients.account, deployment, {
      provider: me, service: String(service), issuedAt: now, modelRoot: init.model.root, promptHash: tokensHash(promptTokens), params, outputHash: tokensHash(output),
      pricePer1k: String(init.pricePer1k), cost: String(cost), channel, cumulative: request.voucher.cumulative, spent: String(spent)
    })
    return { text: result.text, promptTokens: promptTokens.length, outputTokens: output, receipt }
  }

  /** The tokens of answer number `n`, with the fault's lie if it is the one to lie on. */
  function lie (tokens: number[], n: number): number[] {
    if (init.fault === undefined || tokens.length === 0 || (init.fault.every === true ? n < init.fault.request : init.fault.request !== n)) return tokens
    const at = Math.min(init.fault.token ?? Math.floor(tokens.length / 2), tokens.length - 1)
    log(`fault: answer ${n} lies about token ${at}`)
    return tokens.map((t, i) => i === at ? (t + 1) % init.model.recipe.model.vocab : t)
  }

  async function claimAll (options: { due?: boolean } = {}): Promise<Array<{ channel: Hex, claimed: bigint }>> {
    const now = options.due === true ? await chainNow() : 0
    const done: Array<{ channel: Hex, claimed: bigint }> = []
    for (const entry of book.all()) {
      if (entry.best === null || entry.best.cumulative <= entry.claimed) continue
      if (options.due === true && entry.expiry - margin > now) continue
      const onChain = await readChannel(clients, deployment, entry.channel)
      if (!onChain.open || onChain.claimed >= entry.best.cumulative) {
        book.setClaimed(entry.channel, onChain.claimed, Number(onChain.expiry))
        continue
      }
      await claimVoucher(clients, deployment, entry.best)
      book.setClaimed(entry.channel, entry.best.cumulative)
      log(`claimed ${entry.best.cumulative - onChain.claimed} on channel ${entry.channel} (${entry.best.cumulative} in all)`)
      done.push({ channel: entry.channel, claimed: entry.best.cumulative })
    }
    return done
  }

  let claiming: Promise<unknown> = Promise.resolve()
  const pollMs = init.claimPollMs ?? DEFAULT_CLAIM_POLL_MS
  const timer = pollMs > 0
    ? setInterval(() => {
      claiming = claiming.then(async () => claimAll({ due: true })).catch((error: unknown) => { log(`claiming vouchers: ${(error as Error).message}`) })
    }, pollMs)
    : null

  return {
    address: me,
    model: init.model,
    pricePer1k: init.pricePer1k,
    book,
    setService: id => { service = id },
    answer,
    claimAll: async options => {
      const run = claiming.then(async () => claimAll(options))
      claiming = run.catch(() => {})
      return run
    },
    defend: async () => defence === null ? [] : await defence.tick(),
    async stop () {
      if (timer !== null) clearInterval(timer)
      await defence?.stop()
      await claiming
      await generator?.close()
      book.close()
    }
  }
}
