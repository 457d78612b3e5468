import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { parseEther, type Hex } from 'viem'
import {
  advanceTime, connect, deploy, devnetAccount, openChannel, readChannel, signVoucher, tokenBalance, transferTokens, voucherToJson,
  type Clients, type Deployment, type Devnet
} from '@commons/chain'
import { startCappedDevnet } from '../testing/cappedDevnet.ts'
import { referenceContext } from '@commons/engine'
import { openStore, type Store } from '@commons/store'
import {
  checkReceiptSignature, costOf, loadServedModel, requestInference, serveInference, startInferenceHttp, startNetwork, startProvider, tokensHash,
  type InferenceHttpServer, type NetworkNode, type Provider, type Receipt, type ServedModel
} from '../index.ts'
import { writeTinyModel } from '../testing/tinyModel.ts'
import { until } from '../testing/until.ts'

/**
 * A provider serving a small model for pay on a real anvil, over libp2p on loopback and
 * over HTTP to the `openai` client library: answers paid by vouchers, with receipts that
 * replay to the same tokens; replayed, foreign and over-spending vouchers refused; the
 * vouchers claimed on-chain by hand and, near expiry, by the provider itself.
 */

const PRICE = parseEther('0.01') // per 1,000 tokens
const DAY = 86_400n

let root: string
let devnet: Devnet
let deployment: Deployment
let client: Clients
let providerClients: Clients
let model: ServedModel
let provider: Provider
let http: InferenceHttpServer
const networks: NetworkNode[] = []
const stores: Store[] = []
let providerNet: NetworkNode
let clientNet: NetworkNode
let channel: Hex
/** What the client has signed for so far on its channel. */
let signed = 0n

async function network (name: string): Promise<NetworkNode> {
  const store = await openStore(join(root, name))
  stores.push(store)
  const net = await startNetwork({ blockstore: store.blocks })
  networks.push(net)
  return net
}

/** The next voucher: everything signed so far plus what this prompt can cost (a byte is at most a token). */
async function pay (prompt: string, tokens: number, extra = 0n) {
  signed += costOf(Buffer.byteLength(prompt) + tokens, PRICE) + extra
  return voucherToJson(await signVoucher(client.account, deployment, channel, signed))
}

async function replays (prompt: string, receipt: Receipt): Promise<boolean> {
  const again = await model.generate(referenceContext(), prompt, receipt.params)
  return tokensHash(again.tokens) === receipt.outputHash && tokensHash(model.encode(prompt)) === receipt.promptHash
}

const refusedWith = (name: string) => (error: unknown): boolean => {
  assert.equal((error as { details?: { name?: string } }).details?.name, name)
  return true
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-provider-'))
  devnet = await startCappedDevnet({ home: root })
  const deployer = await connect(devnet.rpcUrl, devnetAccount(0))
  client = await connect(devnet.rpcUrl, devnetAccount(1))
  providerClients = await connect(devnet.rpcUrl, devnetAccount(2))
  deployment = await deploy(deployer)
  await transferTokens(deployer, deployment, client.account.address, parseEther('100'))
  await writeTinyModel(root)
  model = await loadServedModel(root)
  provider = startProvider({ clients: providerClients, deployment }, { model, pricePer1k: PRICE, home: join(root, 'provider'), claimPollMs: 100, claimMarginSeconds: 3600 })
  providerNet = await network('provider-net')
  clientNet = await network('client-net')
  await serveInference(providerNet, provider)
  http = await startInferenceHttp(provider)
  const now = (await client.public.getBlock()).timestamp
  channel = await openChannel(client, deployment, { provider: providerClients.account.address, amount: parseEther('1'), expiry: now + DAY })
})

after(async () => {
  await http?.close()
  await provider?.stop()
  for (const net of networks) await net.stop()
  for (const store of stores) await store.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

describe('a provider serving for pay on a real anvil', () => {
  it('answers over libp2p with a signed receipt whose answer replays equal, greedy and seeded', async () => {
    const address = providerNet.multiaddrs()[0]
    const streamed: string[] = []
    const greedy = await requestInference(clientNet, address, { prompt: 'the ', tokens: 12, voucher: await pay('the ', 12) }, t => streamed.push(t))
    assert.equal(greedy.outputTokens.length, 12)
    assert.equal(streamed.join(''), greedy.text, 'the tokens streamed make the text')
    await checkReceiptSignature(deployment, greedy.receipt)
    assert.equal(greedy.receipt.provider, providerClients.account.address)
    assert.equal(greedy.receipt.modelRoot, model.root)
    assert.equal(greedy.receipt.params.seed, null)
    assert.equal(await replays('the ', greedy.receipt), true, 'greedy answer replays')
    const seeded = await requestInference(clientNet, address, { prompt: 'a b', tokens: 10, seed: 42, temperature: 0.8, topK: 20, topP: 0.9, voucher: await pay('a b', 10) })
    assert.deepEqual(seeded.receipt.params, { tokens: 10, seed: 42, temperature: 0.8, topK: 20, topP: 0.9 })
    assert.equal(await replays('a b', seeded.receipt), true, 'sampled answer replays')
    assert.equal(await replays('a c', seeded.receipt), false, 'another prompt does not')
    await assert.rejects(checkReceiptSignature(deployment, { ...seeded.receipt, outputHash: greedy.receipt.outputHash }), { name: 'InvalidReceiptError' })
    assert.equal(BigInt(seeded.receipt.spent), costOf(4 + 12, PRICE) + costOf(3 + 10, PRICE), 'spent what the tokens cost')
  })

  it('refuses replayed, foreign and over-spending vouchers over libp2p', async () => {
    const address = providerNet.multiaddrs()[0]
    const short = voucherToJson(await signVoucher(client.account, deployment, channel, signed - 1n))
    await assert.rejects(requestInference(clientNet, address, { prompt: 'xy', tokens: 4, voucher: short }), refusedWith('VoucherTooLowError'), 'not covering what was spent plus this')
    // With credit left on the channel, the same voucher is still refused: it was taken.
    const voucher = await pay('xy', 4, costOf(6, PRICE))
    await requestInference(clientNet, address, { prompt: 'xy', tokens: 4, voucher })
    await assert.rejects(requestInference(clientNet, address, { prompt: 'xy', tokens: 4, voucher }), refusedWith('VoucherReplayedError'), 'the same voucher again')
    const foreign = voucherToJson(await signVoucher(client.account, { ...deployment, chainId: deployment.chainId + 1 }, channel, signed + parseEther('0.001')))
    await assert.rejects(requestInference(clientNet, address, { prompt: 'xy', tokens: 4, voucher: foreign }), refusedWith('InvalidVoucherError'), 'signed for another chain id')
    const stranger = voucherToJson(await signVoucher(providerClients.account, deployment, channel, signed + parseEther('0.001')))
    await assert.rejects(requestInference(clientNet, address, { prompt: 'xy', tokens: 4, voucher: stranger }), refusedWith('InvalidVoucherError'), 'signed by someone else')
    const over = voucherToJson(await signVoucher(client.account, deployment, channel, parseEther('2')))
    await assert.rejects(requestInference(clientNet, address, { prompt: 'xy', tokens: 4, voucher: over }), refusedWith('ChannelOverspentError'), 'more than the deposit')
  })

  it('serves concurrent requests in any order, each with its own voucher, with no lock', async () => {
    const address = providerNet.multiaddrs()[0]
    const a = await pay('one', 5)
    const b = await pay('two', 5)
    // The later voucher first, then the earlier one: both are served.
    await requestInference(clientNet, address, { prompt: 'two', tokens: 5, voucher: b })
    await requestInference(clientNet, address, { prompt: 'one', tokens: 5, voucher: a })
    const vouchers = [await pay('abc', 4), await pay('abd', 4), await pay('abe', 4)]
    const answers = await Promise.all(['abc', 'abd', 'abe'].map(async (prompt, i) => requestInference(clientNet, address, { prompt, tokens: 4, voucher: vouchers[i] })))
    assert.equal(answers.length, 3)
    assert.equal(provider.book.get(channel)?.spent, signed - costOf(6, PRICE), 'all spent but the credit left earlier')
  })

  it('serves the OpenAI client library: models, completions, chat with streaming, 402 for a bad voucher', async () => {
    const openai = new OpenAI({ baseURL: `${http.url}/v1`, apiKey: 'not-used', maxRetries: 0 })
    const models = await openai.models.list()
    assert.deepEqual(models.data.map(m => m.id), ['tiny'])
    const prompt = 'hello'
    const paid = { headers: { 'x-commons-voucher': JSON.stringify(await pay(prompt, 8)) } }
    const completion = await openai.completions.create({ model: 'tiny', prompt, max_tokens: 8, seed: 7, temperature: 1 }, paid)
    await assert.rejects(openai.completions.create({ model: 'tiny', prompt, max_tokens: 8 }, paid),
      (error: unknown) => error instanceof OpenAI.APIError && error.status === 402 && error.code === 'VoucherReplayedError', 'the same voucher again')
    const receipt = (completion as unknown as { receipt: Receipt }).receipt
    assert.equal(completion.usage?.completion_tokens, 8)
    await checkReceiptSignature(deployment, receipt)
    assert.equal(await replays(prompt, receipt), true)
    const messages = [{ role: 'user' as const, content: 'hi' }]
    const chatPromptBytes = Buffer.byteLength('user: hi\nassistant:')
    const stream = await openai.chat.completions.create({ model: 'tiny', messages, max_tokens: 6, stream: true }, { headers: { 'x-commons-voucher': JSON.stringify(await pay('x'.repeat(chatPromptBytes), 6)) } })
    let text = ''
    let last: unknown
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? ''
      last = chunk
    }
    const streamedReceipt = (last as { receipt: Receipt }).receipt
    await checkReceiptSignature(deployment, streamedReceipt)
    assert.equal(await replays('user: hi\nassistant:', streamedReceipt), true)
    assert.equal(text.length > 0, true)
    const old = { channel, cumulative: '1', signature: streamedReceipt.signature }
    await assert.rejects(openai.completions.create({ model: 'tiny', prompt, max_tokens: 2 }, { headers: { 'x-commons-voucher': JSON.stringify(old) } }),
      (error: unknown) => error instanceof OpenAI.APIError && error.status === 402)
    const over = voucherToJson(await signVoucher(client.account, deployment, channel, parseEther('5')))
    await assert.rejects(openai.completions.create({ model: 'tiny', prompt, max_tokens: 2 }, { headers: { 'x-commons-voucher': JSON.stringify(over) } }),
      (error: unknown) => error instanceof OpenAI.APIError && error.status === 402 && error.code === 'ChannelOverspentError')
  })

  it('claims the best voucher without closing, and by itself before the channel expires', async () => {
    const payee = providerClients.account.address
    const before = await tokenBalance(client, deployment, payee)
    const best = provider.book.get(channel)?.best?.cumulative ?? 0n
    await provider.claimAll()
    assert.equal(await tokenBalance(client, deployment, payee) - before, best, 'the best voucher paid')
    assert.equal((await readChannel(client, deployment, channel)).open, true, 'the channel stays open')
    await requestInference(clientNet, providerNet.multiaddrs()[0], { prompt: 'more', tokens: 3, voucher: await pay('more', 3) })
    // Within the claim margin of expiry: the provider's timer claims the rest.
    await advanceTime(devnet.rpcUrl, Number(DAY) - 1800)
    await until('the provider claims before expiry', async () => (await readChannel(client, deployment, channel)).claimed === signed, { timeoutMs: 20_000 })
    await assert.rejects(requestInference(clientNet, providerNet.multiaddrs()[0], { prompt: 'late', tokens: 3, voucher: await pay('late', 3) }), refusedWith('ChannelNotUsableError'))
  })
})
