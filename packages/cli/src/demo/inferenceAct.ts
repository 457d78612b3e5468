import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { formatEther, parseEther, type Hex } from 'viem'
import {
  advanceTime, connect, devnetAccount, ensureServicePrograms, epochAt, epochTimes, ForwardPrograms, fundEpoch, openChannel, readEpoch, readScoringSchedule,
  registerAndStake, registerService, signVoucher, transferTokens, voucherToJson, type Clients, type Deployment
} from '@commons/chain'
import { referenceContext } from '@commons/engine'
import {
  checkAnswer, loadServedModel, replayModelOf, requestInference, servedStateOf, serveInference, signedAnswer, startInferenceHttp, startNetwork, startProvider, startScorer,
  type InferenceAnswer, type NetworkNode, type Provider, type Receipt, type Scorer
} from '@commons/node'
import { openStore, type Store } from '@commons/store'

/**
 * The demo's inference act (on by default, `commons demo --no-inference` skips it): two
 * providers serve the model the requester verified, each with a service in the
 * ServiceRegistry; the requester (over libp2p) and an agent (over the OpenAI-compatible
 * HTTP API) pay per call through one channel each per provider; every answer is replayed,
 * and the one provider-2 lies on is disputed on-chain and provider-2 slashed; then two
 * validators score the providers for an epoch (commit-reveal) and the pool pays out.
 */

export interface InferenceActParams {
  bank: Clients
  deployment: Deployment
  rpcUrl: string
  /** The verified run (model.safetensors and checkpoints/). */
  dir: string
  home: string
  say: (line: string) => void
}

export interface InferenceSummary {
  requests: number
  tokens: number
  /** What the clients paid, in COM (the receipts' costs). */
  paid: string
  receipts: number
  disputes: Array<{ winner: string, moves: number, maxGas: number }>
  epoch: { weights: Record<string, string>, payouts: Record<string, string> }
  seconds: number
}

const PRICE = parseEther('0.01')
const TOKENS = 12
const POOL = parseEther('100')

export async function runInferenceAct (p: InferenceActParams): Promise<InferenceSummary> {
  const started = Date.now()
  const { bank, deployment, say } = p
  const engine = referenceContext()
  const model = await loadServedModel(p.dir)
  const stops: Array<() => Promise<void>> = []
  // Development accounts the rest of the demo leaves alone: providers 7 and 8, clients 1 and 2, validators 3 and 4.
  const as = async (i: number): Promise<Clients> => {
    const c = await connect(p.rpcUrl, devnetAccount(i))
    await transferTokens(bank, deployment, c.account.address, parseEther('200'))
    return c
  }
  const network = async (name: string): Promise<NetworkNode> => {
    await mkdir(join(p.home, name), { recursive: true })
    const store: Store = await openStore(join(p.home, name))
    const net = await startNetwork({ blockstore: store.blocks })
    stops.push(async () => { await net.stop(); await store.close() })
    return net
  }
  try {
    say('[inference] two providers serve the verified model for pay; provider-2 will lie on one answer')
    const state = await servedStateOf(p.dir, model.recipe, model.root, engine)
    const programs = new ForwardPrograms(engine, model.recipe)
    const providers: Array<{ name: string, clients: Clients, provider: Provider, service: bigint, libp2p: string, http: string }> = []
    for (const [name, account, fault] of [['provider-1', 7, undefined], ['provider-2', 8, { request: 1 }]] as const) {
      const clients = await as(account)
      const provider = startProvider({ clients, deployment, engine }, {
        model, pricePer1k: PRICE, home: join(p.home, name), worker: false, claimPollMs: 0, fault, defence: { state, pollMs: 250 }, log: line => { say(`      ${name}: ${line}`) }
      })
      stops.push(async () => provider.stop())
      const net = await network(name)
      await serveInference(net, provider)
      const http = await startInferenceHttp(provider, { port: 0 })
      stops.push(async () => http.close())
      await registerAndStake(clients, deployment, { peerId: '0x01', roles: [], amount: parseEther('50') })
      const service = await registerService(clients, deployment, { modelRoot: model.root, modelCid: '0x01', pricePer1k: PRICE, endpoint: `${net.multiaddrs()[0]} ${http.url}`, stake: parseEther('40') })
      provider.setService(service)
      await ensureServicePrograms(clients, deployment, service, programs)
      providers.push({ name, clients, provider, service, libp2p: net.multiaddrs()[0], http: http.url })
    }

    const replay = await replayModelOf(p.dir, model.recipe, engine)
    const receipts: Receipt[] = []
    const disputes: InferenceSummary['disputes'] = []
    const channels = new Map<string, { id: Hex, signed: bigint }>()
    /** A voucher of `client`'s channel to the provider covering `cost` more (the channel opened on first use). */
    const pay = async (client: Clients, to: typeof providers[number], cost: bigint) => {
      const key = `${client.account.address}:${to.name}`
      let channel = channels.get(key)
      if (channel === undefined) {
        const now = (await bank.public.getBlock()).timestamp
        channel = { id: await openChannel(client, deployment, { provider: to.clients.account.address, amount: parseEther('1'), expiry: now + 7n * 86_400n }), signed: 0n }
        channels.set(key, channel)
      }
      channel.signed += cost
      return voucherToJson(await signVoucher(client.account, deployment, channel.id, channel.signed))
    }
    /** Every answer is replayed; a wrong token is disputed and played to the end. */
    const check = async (client: Clients, prompt: string, answer: Pick<InferenceAnswer, 'outputTokens' | 'receipt'>): Promise<void> => {
      receipts.push(answer.receipt)
      const result = await checkAnswer({ clients: client, deployment }, replay, signedAnswer(answer.receipt, model.encode(prompt), answer.outputTokens), { pollMs: 200 })
      if (result.dispute !== undefined) {
        const d = result.dispute
        say(`      token ${result.wrongToken} of an answer of service ${answer.receipt.service} is not the model's: dispute ${d.id} ${d.winner ?? 'unresolved'} won (${d.reason}) in ${d.played} moves, the challenger's at most ${d.maxGas} gas`)
        disputes.push({ winner: d.winner ?? 'unresolved', moves: d.played, maxGas: Number(d.maxGas) })
      }
    }

    say('[inference] the requester asks over libp2p, an agent over the OpenAI-compatible HTTP API; both pay per call over channels')
    const requester = await as(1)
    const agent = await as(2)
    const net = await network('requester')
    const prompts = ['{"text": "', 'The community', 'A model is']
    for (const [i, prompt] of prompts.entries()) {
      for (const to of providers) {
        // Bytes bound the prompt's tokens: the voucher covers them plus the output (the rest stays as credit).
        const cost = (BigInt(Buffer.byteLength(prompt) + TOKENS) * PRICE + 999n) / 1000n
        if (i % 2 === 0) {
          const answer = await requestInference(net, to.libp2p, { prompt, tokens: TOKENS, voucher: await pay(requester, to, cost) })
          await check(requester, prompt, answer)
        } else {
          const response = await fetch(`${to.http}/v1/completions`, {
            method: 'POST', headers: { 'content-type': 'application/json', 'x-commons-voucher': JSON.stringify(await pay(agent, to, cost)) }, body: JSON.stringify({ model: model.name, prompt, max_tokens: TOKENS })
          })
          const body = await response.json() as { receipt: Receipt, output_tokens: number[] }
          await check(agent, prompt, { receipt: body.receipt, outputTokens: body.output_tokens })
        }
      }
    }
    for (const { provider } of providers) await provider.claimAll()

    say('[inference] two validators probe the live services, commit and reveal weights; the epoch\'s pool pays out')
    const schedule = await readScoringSchedule(bank, deployment)
    const now = async (): Promise<bigint> => (await bank.public.getBlock()).timestamp
    let { epoch, phase } = epochAt(schedule, await now())
    if (phase !== 'commit') {
      await advanceTime(p.rpcUrl, Number(epochTimes(schedule, epoch + 1n).start - await now()))
      epoch += 1n
    }
    await fundEpoch(bank, deployment, epoch, POOL)
    const scorers: Scorer[] = []
    for (const i of [3, 4]) {
      const clients = await as(i)
      await registerAndStake(clients, deployment, { peerId: '0x02', roles: ['validator'], amount: parseEther('100') })
      const scorer = startScorer({ clients, deployment, network: await network(`validator-${i}`), engine }, { references: [model], probesPerService: 2, tokensPerProbe: 8, pollMs: 0 })
      stops.push(async () => scorer.stop())
      scorers.push(scorer)
      await scorer.probeAll()
      await scorer.commit(epoch)
    }
    const times = epochTimes(schedule, epoch)
    await advanceTime(p.rpcUrl, Number(times.reveal - await now()))
    for (const s of scorers) await s.reveal(epoch)
    await advanceTime(p.rpcUrl, Number(times.end - await now()))
    for (const s of scorers) await s.settleAndClaim(epoch)
    const result = await readEpoch(bank, deployment, epoch)
    const nameOf = (service: bigint): string => providers.find(x => x.service === service)?.name ?? `service ${service}`
    const weights = Object.fromEntries(result.services.map(s => [nameOf(s.service), formatEther(s.consensus)]))
    const payouts = Object.fromEntries([
      ...result.services.map(s => [nameOf(s.service), formatEther(s.payout)]),
      ...result.validatorPayouts.map(v => [`validator ${v.validator}`, formatEther(v.payout)])
    ])
    const summary: InferenceSummary = {
      requests: receipts.length,
      tokens: receipts.reduce((sum, r) => sum + r.params.tokens, 0),
      paid: formatEther(receipts.reduce((sum, r) => sum + BigInt(r.cost), 0n)),
      receipts: receipts.length,
      disputes,
      epoch: { weights, payouts },
      seconds: (Date.now() - started) / 1000
    }
    say(`      ${summary.requests} paid requests, ${summary.tokens} tokens, ${summary.paid} COM; weights ${JSON.stringify(weights)}; payouts ${JSON.stringify(payouts)} (${summary.seconds} s)`)
    return summary
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {})
  }
}
