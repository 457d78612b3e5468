import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther, type Hex } from 'viem'
import {
  claimVoucher, commitWeights, connect, deploy, devnetAccount, epochAt, epochTimes, advanceTime, fundEpoch, openChannel, readScoringSchedule,
  registerAndStake, registerService, revealWeights, settleEpoch, signVoucher, startDevnet, transferTokens, voucherFromJson, voucherToJson,
  type Clients, type Deployment
} from '@commons/chain'
import { generate, initParams, paramSpecs, referenceContext, writeSafetensors, type Recipe, type TransformerConfig } from '@commons/engine'
import { exportGguf } from '@commons/models'
import { checkReceiptSignature, costOf, loadServedModel, requestInference, serveInference, startInferenceHttp, startNetwork, startProvider, type Receipt } from '@commons/node'
import { openStore } from '@commons/store'
import { getLlama, type Token } from 'node-llama-cpp'
import type { BenchResult } from '../../../bench/table.ts'
import { disputeGas, GAS_GOAL, MOVES_GOAL } from './inferenceDisputeGas.ts'

const CONFIG: TransformerConfig = { kind: 'transformer', vocab: 256, dModel: 64, layers: 2, heads: 4, hidden: 172, context: 128, tiedEmbeddings: false, normEps: 1e-5, ropeTheta: 10000 }
const TOKENS = 32
const REQUESTS = 12
const PRICE = parseEther('0.01')
const PROMPT = 'the quick brown fox jumps over the lazy dog. '

const medianOf = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]
const round = (x: number, digits = 2): number => Number(x.toFixed(digits))

/** Milliseconds of each of `n` runs of `work`, after one warm-up run. */
async function timed (n: number, work: () => Promise<unknown>): Promise<number[]> {
  await work()
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    await work()
    times.push(performance.now() - start)
  }
  return times
}

/** Gas of the last transaction `clients` sent (anvil mines one block per transaction). */
async function lastGas (clients: Clients): Promise<bigint> {
  const block = await clients.public.getBlock({ blockTag: 'latest' })
  return (await clients.public.getTransactionReceipt({ hash: block.transactions[0] })).gasUsed
}

async function syntheticRun (dir: string): Promise<void> {
  const recipe: Recipe = {
    name: 'bench', model: CONFIG, tokenizer: 'byte', batchSize: 1, steps: 1, seed: 1, checkpointInterval: 1,
    optimizer: { lr: 0.001, minLr: 0.0001, warmupSteps: 0, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 }
  }
  const zero = `0x${'00'.repeat(32)}`
  const names = paramSpecs(CONFIG).map(p => p.name)
  await writeSafetensors(join(dir, 'model.safetensors'), initParams(CONFIG, 1).map((t, i) => [names[i], t]), { recipe: JSON.stringify(recipe), stateRoot: zero, transcriptRoot: zero, tokensRoot: zero })
}

/**
 * Inference: a model served for pay (through the provider, over libp2p and over HTTP,
 * each request paid by a voucher and answered with a signed receipt) against the same
 * model generated in-process with the same kernels, and against llama.cpp on its GGUF
 * export, same run; what receipts and vouchers add to a request; the gas of the
 * channel, of a lie disputed to the end and of a scoring epoch on anvil.
 */
export async function benchInference (log: (line: string) => void): Promise<BenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'commons-bench-inference-'))
  const devnet = await startDevnet({ home: dir })
  const stops: Array<() => Promise<unknown>> = []
  try {
    await syntheticRun(dir)
    const model = await loadServedModel(dir)
    const deployer = await connect(devnet.rpcUrl, devnetAccount(0))
    const client = await connect(devnet.rpcUrl, devnetAccount(1))
    const providerClients = await connect(devnet.rpcUrl, devnetAccount(2))
    const validator = await connect(devnet.rpcUrl, devnetAccount(3))
    const deployment: Deployment = await deploy(deployer, { scoringEpochLength: 600n, scoringCommitLength: 300n })
    for (const c of [client, providerClients, validator, await connect(devnet.rpcUrl, devnetAccount(4))]) await transferTokens(deployer, deployment, c.account.address, parseEther('1000'))
    const gas: Record<string, number> = {}

    log('inference: a provider on libp2p and HTTP, a client with a channel')
    const provider = startProvider({ clients: providerClients, deployment }, { model, pricePer1k: PRICE, home: join(dir, 'provider'), claimPollMs: 0 })
    stops.push(async () => provider.stop())
    const stores = await Promise.all(['p', 'c'].map(async name => openStore(join(dir, name))))
    stops.push(async () => Promise.all(stores.map(async s => s.close())))
    const [providerNet, clientNet] = await Promise.all(stores.map(async s => startNetwork({ blockstore: s.blocks })))
    stops.push(async () => Promise.all([providerNet.stop(), clientNet.stop()]))
    await serveInference(providerNet, provider)
    const http = await startInferenceHttp(provider)
    stops.push(async () => http.close())
    const now = (await client.public.getBlock()).timestamp
    const channel: Hex = await openChannel(client, deployment, { provider: providerClients.account.address, amount: parseEther('10'), expiry: now + 7n * 86_400n })
    gas.channelOpen = Number(await lastGas(client))
    let signed = 0n
    const signMs: number[] = []
    const pay = async (): Promise<ReturnType<typeof voucherToJson>> => {
      signed += costOf(Buffer.byteLength(PROMPT) + TOKENS, PRICE)
      const start = performance.now()
      const v = await signVoucher(client.account, deployment, channel, signed)
      signMs.push(performance.now() - start)
      return voucherToJson(v)
    }

    log(`inference: ${REQUESTS} requests of ${TOKENS} tokens each way`)
    const ctx = referenceContext()
    const direct = await timed(REQUESTS, async () => generate(ctx, dir, PROMPT, { tokens: TOKENS }))
    const address = providerNet.multiaddrs()[0]
    let receipt: Receipt | null = null
    const overLibp2p = await timed(REQUESTS, async () => { receipt = (await requestInference(clientNet, address, { prompt: PROMPT, tokens: TOKENS, voucher: await pay() })).receipt })
    const overHttp = await timed(REQUESTS, async () => {
      const response = await fetch(`${http.url}/v1/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-commons-voucher': JSON.stringify(await pay()) }, body: JSON.stringify({ model: model.name, prompt: PROMPT, max_tokens: TOKENS })
      })
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`)
      await response.json()
    })
    const checkMs = await timed(REQUESTS, async () => checkReceiptSignature(deployment, receipt as unknown as Receipt))
    const claimed = await claimVoucher(providerClients, deployment, voucherFromJson(await pay()))
    gas.channelClaim = Number(claimed.gasUsed)

    log('inference: the same model in llama.cpp (GGUF export)')
    const gguf = join(dir, 'model.gguf')
    await exportGguf({ run: dir, out: gguf })
    const llama = await getLlama({ gpu: false, logLevel: 'error' as never })
    const llamaModel = await llama.loadModel({ modelPath: gguf })
    const context = await llamaModel.createContext({ contextSize: CONFIG.context, threads: 1 })
    let llamaMs: number[] = []
    try {
      const promptIds = [...Buffer.from(PROMPT)] as unknown as Token[]
      llamaMs = await timed(REQUESTS, async () => {
        const sequence = context.getSequence()
        let n = 0
        for await (const _ of sequence.evaluate(promptIds, { temperature: 0 })) if (++n === TOKENS) break
        sequence.dispose()
      })
    } finally {
      await context.dispose()
      await llamaModel.dispose()
      await llama.dispose()
    }

    log('inference: gas of a scoring epoch')
    await registerAndStake(providerClients, deployment, { peerId: '0x01', roles: [], amount: parseEther('20') })
    const service = await registerService(providerClients, deployment, { modelRoot: model.root, modelCid: '0x01', pricePer1k: PRICE, endpoint: address, stake: parseEther('10') })
    await registerAndStake(validator, deployment, { peerId: '0x02', roles: ['validator'], amount: parseEther('100') })
    const schedule = await readScoringSchedule(deployer, deployment)
    const { epoch } = epochAt(schedule, (await deployer.public.getBlock()).timestamp)
    gas.scoringFund = Number((await fundEpoch(deployer, deployment, epoch, parseEther('10'))).gasUsed)
    const commitment = await commitWeights(validator, deployment, epoch, [{ service, weight: 1n }])
    gas.scoringCommit = Number(await lastGas(validator))
    const times = epochTimes(schedule, epoch)
    await advanceTime(devnet.rpcUrl, Number(times.reveal - (await deployer.public.getBlock()).timestamp))
    gas.scoringReveal = Number((await revealWeights(validator, deployment, commitment)).gasUsed)
    await advanceTime(devnet.rpcUrl, Number(times.end - (await deployer.public.getBlock()).timestamp))
    gas.scoringSettle = Number((await settleEpoch(deployer, deployment, epoch)).gasUsed)

    const dispute = await disputeGas(dir, deployment, client, await connect(devnet.rpcUrl, devnetAccount(4)), log)
    for (const m of dispute.moves) gas[`dispute_${m.name}`] = Math.max(gas[`dispute_${m.name}`] ?? 0, m.gas)

    const rate = (ms: number[]): number => round(TOKENS / (medianOf(ms) / 1000))
    const tps = { direct: rate(direct), libp2p: rate(overLibp2p), http: rate(overHttp), llamaCpp: rate(llamaMs) }
    const overheadMs = { libp2p: round(medianOf(overLibp2p) - medianOf(direct), 1), http: round(medianOf(overHttp) - medianOf(direct), 1), voucherSign: round(medianOf(signMs), 2), receiptCheck: round(medianOf(checkMs), 2) }
    const figures = { tokensPerRequest: TOKENS, requests: REQUESTS, tokensPerSecond: tps, medianRequestMs: { direct: round(medianOf(direct), 1), libp2p: round(medianOf(overLibp2p), 1), http: round(medianOf(overHttp), 1), llamaCpp: round(medianOf(llamaMs), 1) }, overheadMs, gas, dispute }
    const rounds = (name: string): number => dispute.moves.filter(m => m.name === name).length
    const gasOf = (name: string): string => dispute.moves.filter(m => m.name === name).map(m => m.gas).join(' / ')
    return {
      part: 'inference',
      title: 'Inference: served for pay against the same model unserved and in llama.cpp (same run)',
      columns: ['measure', 'commons', 'reference', 'ratio'],
      rows: [
        ['tokens/s per request, served over libp2p vs generated in-process', tps.libp2p, tps.direct, round(tps.libp2p / tps.direct, 3)],
        ['tokens/s per request, served over HTTP vs generated in-process', tps.http, tps.direct, round(tps.http / tps.direct, 3)],
        ['tokens/s per request, served over libp2p vs llama.cpp (F32 GGUF)', tps.libp2p, tps.llamaCpp, round(tps.libp2p / tps.llamaCpp, 3)],
        ['ms a paid request adds over libp2p (voucher check, receipt, transport, worker)', overheadMs.libp2p, round(medianOf(direct), 1), round(medianOf(overLibp2p) / medianOf(direct), 2)],
        ['ms a paid request adds over HTTP', overheadMs.http, round(medianOf(direct), 1), round(medianOf(overHttp) / medianOf(direct), 2)],
        ['gas: channel open / claim (a voucher)', gas.channelOpen, gas.channelClaim, ''],
        ['gas: dispute open (challenger) / postTrace (provider)', gasOf('open'), gasOf('postTrace'), ''],
        [`gas: dispute values rounds, requestValues / provideValues (${rounds('requestValues')} rounds)`, gasOf('requestValues'), gasOf('provideValues'), ''],
        ['gas: dispute pinpoint (challenger) / reveal, the element check (provider)', gasOf('pinpoint'), gasOf('reveal'), ''],
        ['dispute: transactions after open vs goal of 4 moves', dispute.movesAfterOpen, MOVES_GOAL, round(dispute.movesAfterOpen / MOVES_GOAL, 2)],
        ['dispute: rounds after open (a values round, request and answer, counted once) vs goal', dispute.roundsAfterOpen, MOVES_GOAL, round(dispute.roundsAfterOpen / MOVES_GOAL, 2)],
        ['dispute: heaviest move (gas) vs goal', dispute.maxGas, GAS_GOAL, round(dispute.maxGas / GAS_GOAL, 3)],
        ['gas: scoring commit / reveal (one service)', gas.scoringCommit, gas.scoringReveal, ''],
        ['gas: scoring fund / settle (one validator, one service)', gas.scoringFund, gas.scoringSettle, '']
      ],
      notes: [
        `model: ${CONFIG.layers} layers, d ${CONFIG.dModel}, random weights; ${REQUESTS} requests of ${TOKENS} tokens after a ${PROMPT.length}-byte prompt, medians, after a warm-up`,
        'served requests run in the provider\'s generation worker on the reference kernels (bit-exact replays); in-process uses the same kernels; llama.cpp runs on one thread',
        `dispute (tiny model, 1 layer, d 16, a lie at an early op; ${dispute.winner} won, client refunded ${dispute.refund} wei): ${dispute.moves.map(m => `${m.name} ${m.gas}`).join(', ')}`,
        `client side: a voucher signature takes ${overheadMs.voucherSign} ms, checking a receipt ${overheadMs.receiptCheck} ms`
      ],
      figures
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {})
    await devnet.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
