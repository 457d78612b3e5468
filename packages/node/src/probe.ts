import { randomInt } from 'node:crypto'
import type { Address, Hex } from 'viem'
import { channelBetween, openChannel, readChannel, signVoucher, topUpChannel, voucherToJson, type Clients, type Deployment, type ServiceRecord } from '@commons/chain'
import type { EngineContext } from '@commons/engine'
import { requestInference } from './inferProtocol.ts'
import type { NetworkNode } from './network.ts'
import { checkReceiptSignature, tokensHash, type Receipt } from './receipt.ts'
import { costOf, type InferenceRequest } from './roles/provider.ts'
import type { ServedModel } from './servedModel.ts'

/** One probe's outcome: `answered` with a receipt, `correct` if it replays token for token. */
export interface ProbeOutcome {
  service: bigint
  answered: boolean
  correct: boolean
  latencyMs: number
  verdict: ProbeVerdict
  /** Why it is not correct, in words. */
  reason?: string
  /** An answer whose tokens the model does not make, with its receipt and token lists: what a dispute opens with. */
  wrong?: { receipt: Receipt, prompt: number[], output: number[] }
}

/** What a probe showed: `replayed` is the only correct one. */
export type ProbeVerdict = 'replayed' | 'unanswered' | 'bad-receipt' | 'wrong-model' | 'wrong-params' | 'wrong-prompt' | 'wrong-tokens' | 'unverifiable'

/**
 * Pays providers through one channel per provider, as a client does: vouchers are
 * cumulative, so it keeps what it has signed per channel (the provider's receipt says what
 * the channel has spent, which the next voucher starts from).
 */
export class ProbePayer {
  readonly clients: Clients
  readonly deployment: Deployment
  readonly deposit: bigint
  readonly channelSeconds: bigint
  private readonly signed = new Map<Hex, bigint>()

  constructor (clients: Clients, deployment: Deployment, deposit: bigint, channelSeconds: bigint) {
    this.clients = clients
    this.deployment = deployment
    this.deposit = deposit
    this.channelSeconds = channelSeconds
  }

  /** A voucher for `cost` more than this payer has signed on its channel to `provider`, the channel opened or topped up as needed. */
  async voucherFor (provider: Address, cost: bigint): Promise<InferenceRequest['voucher']> {
    const now = (await this.clients.public.getBlock()).timestamp
    const expiry = now + this.channelSeconds
    let channel = await channelBetween(this.clients, this.deployment, this.clients.account.address, provider)
    if (channel === null) channel = await openChannel(this.clients, this.deployment, { provider, amount: this.deposit > cost ? this.deposit : cost, expiry })
    const state = await readChannel(this.clients, this.deployment, channel)
    const before = this.signed.get(channel) ?? 0n
    const cumulative = (before > state.claimed ? before : state.claimed) + cost
    // Running low, or within half its life of expiry (the provider refuses channels about to expire): add and extend.
    if (cumulative > state.deposit || state.expiry < now + this.channelSeconds / 2n) {
      const add = cumulative > state.deposit ? cumulative - state.deposit + this.deposit : 0n
      await topUpChannel(this.clients, this.deployment, { channel, amount: add, expiry: expiry > state.expiry ? expiry : state.expiry })
    }
    this.signed.set(channel, cumulative)
    return voucherToJson(await signVoucher(this.clients.account, this.deployment, channel, cumulative))
  }

  /** Records the channel's spent total from a receipt: credit the provider kept is not signed for twice. */
  spent (channel: Hex, spent: bigint): void {
    if (spent > (this.signed.get(channel) ?? 0n)) this.signed.set(channel, spent)
  }
}

const WORDS = ['the', 'model', 'river', 'stone', 'light', 'market', 'seven', 'north', 'quiet', 'paper', 'green', 'after']

/** A prompt the provider cannot have prepared for: random words. */
export function probePrompt (): string {
  return Array.from({ length: 3 + randomInt(5) }, () => WORDS[randomInt(WORDS.length)]).join(' ')
}

/** The libp2p address of a service's endpoint ("<multiaddr> <http url>"), or null. */
export const libp2pAddress = (service: ServiceRecord): string | null => service.endpoint.split(/\s+/).find(e => e.startsWith('/')) ?? null

export interface ProbeDeps {
  network: NetworkNode
  payer: ProbePayer
  engine: EngineContext
  /** The scorer's own copy of the model the service claims to serve (by state root), or undefined. */
  reference: ServedModel | undefined
  timeoutMs: number
  /** Share of probes sampled under a seed, the rest greedy (default one half). */
  sampledShare?: number
}

/**
 * Sends one paid request to a service (greedy or seeded at random) and replays it on the
 * scorer's copy of the model: the answer is correct only if the receipt is signed by the
 * service's provider for the service's model root, this prompt and these parameters, and
 * the tokens are the ones the model makes.
 */
export async function probeService (deps: ProbeDeps, service: ServiceRecord, tokens: number): Promise<ProbeOutcome> {
  const fail = (verdict: ProbeVerdict, reason: string, latencyMs: number): ProbeOutcome =>
    ({ service: service.id, answered: verdict !== 'unanswered', correct: false, latencyMs, verdict, reason })
  const address = libp2pAddress(service)
  if (address === null) return fail('unanswered', `no libp2p address in "${service.endpoint}"`, 0)
  const prompt = probePrompt()
  const seeded = randomInt(1_000_000) < (deps.sampledShare ?? 0.5) * 1_000_000
  const request = {
    prompt, tokens, seed: seeded ? randomInt(2 ** 31) : null, temperature: seeded ? 0.8 : undefined, topK: null, topP: null,
    voucher: await deps.payer.voucherFor(service.provider, costOf(Buffer.byteLength(prompt) + tokens, service.pricePer1k))
  }
  const started = performance.now()
  let answer
  try {
    answer = await withTimeout(requestInference(deps.network, address, request), deps.timeoutMs)
  } catch (error) {
    return fail('unanswered', `no answer: ${(error as Error).message}`, performance.now() - started)
  }
  const latencyMs = performance.now() - started
  const r = answer.receipt
  deps.payer.spent(r.channel, BigInt(r.spent))
  try {
    await checkReceiptSignature(deps.payer.deployment, r)
  } catch {
    return fail('bad-receipt', 'receipt not signed by the provider it names', latencyMs)
  }
  if (r.provider.toLowerCase() !== service.provider.toLowerCase()) return fail('bad-receipt', `receipt of ${r.provider}, not of ${service.provider}`, latencyMs)
  if (r.modelRoot !== service.modelRoot) return fail('wrong-model', `receipt for model ${r.modelRoot}, the service offers ${service.modelRoot}`, latencyMs)
  if (r.params.tokens !== tokens || r.params.seed !== request.seed) return fail('wrong-params', 'receipt for other sampling parameters than asked', latencyMs)
  if (deps.reference === undefined) return fail('unverifiable', `no copy of model ${service.modelRoot} to replay with`, latencyMs)
  if (r.promptHash !== tokensHash(deps.reference.encode(prompt))) return fail('wrong-prompt', 'receipt for another prompt', latencyMs)
  if (tokensHash(answer.outputTokens) !== r.outputHash) return fail('wrong-tokens', 'answer tokens differ from the receipt', latencyMs)
  const replay = await deps.reference.generate(deps.engine, prompt, r.params)
  if (tokensHash(replay.tokens) !== r.outputHash) {
    return { ...fail('wrong-tokens', 'the model makes other tokens than the answer', latencyMs), wrong: { receipt: r, prompt: deps.reference.encode(prompt), output: answer.outputTokens } }
  }
  return { service: service.id, answered: true, correct: true, latencyMs, verdict: 'replayed' }
}

async function withTimeout<T> (work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([work, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`no answer within ${ms} ms`)) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}
