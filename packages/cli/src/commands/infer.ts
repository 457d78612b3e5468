import type { Command } from 'commander'
import { parseEther, type Address, type Hex } from 'viem'
import {
  channelBetween, InvalidChainInputError, liveServices, openChannel, readChannel, readService, signVoucher, topUpChannel, voucherToJson,
  type Clients, type Deployment, type ServiceRecord
} from '@commons/chain/core'
import { openStore } from '@commons/store'
import { deploymentOf, homeOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit, note, UsageError } from '../output.ts'
import { amountOption, numberOption, wholeOption } from '../optionParsers.ts'
import { readSigned, writeSigned } from '../signedVouchers.ts'
import { tokens } from '../revertText.ts'
import { inferDisputeCommand, verifyAnswer } from './inferVerify.ts'

interface InferOptions {
  provider: string
  tokens: number
  maxPrice?: string
  seed?: number
  temperature?: number
  topK?: number
  topP?: number
  deposit: string
  days: number
  verify: boolean
  model?: string
}

/** The service to ask: `auto` (the cheapest live one within the price), a service id, or a provider address. */
async function chooseService (clients: Clients, deployment: Deployment, which: string, maxPrice: bigint): Promise<ServiceRecord> {
  const live = await liveServices(clients, deployment)
  let candidates: ServiceRecord[]
  if (which === 'auto') candidates = live
  else if (/^\d+$/.test(which)) candidates = [await readService(clients, deployment, BigInt(which))].filter(s => s.stake > 0n && s.releaseAt === 0n)
  else candidates = live.filter(s => s.provider.toLowerCase() === which.toLowerCase() || s.endpoint.includes(which))
  if (candidates.length === 0) throw new InvalidChainInputError(`no live service matches --provider ${which}`, { hint: 'providers register with commons serve --stake; leave --provider out to take any' })
  const affordable = candidates.filter(s => s.pricePer1k <= maxPrice).sort((a, b) => a.pricePer1k < b.pricePer1k ? -1 : a.pricePer1k > b.pricePer1k ? 1 : 0)
  if (affordable.length === 0) {
    throw new InvalidChainInputError(`every matching service costs more than ${tokens(maxPrice)} per 1,000 tokens`, {
      hint: `the cheapest asks ${tokens(candidates.map(s => s.pricePer1k).reduce((a, b) => a < b ? a : b))}; raise --max-price`
    })
  }
  return affordable[0]
}

/** The client's channel to `provider`, opened (or topped up) so that it holds `need` more than it has paid. */
async function channelFor (clients: Clients, deployment: Deployment, provider: Address, need: bigint, deposit: bigint, days: number, signed: (c: Hex) => Promise<bigint>): Promise<Hex> {
  const now = (await clients.public.getBlock()).timestamp
  const expiry = now + BigInt(days) * 86_400n
  const id = await channelBetween(clients, deployment, clients.account.address, provider)
  if (id === null) return openChannel(clients, deployment, { provider, amount: deposit > need ? deposit : need, expiry })
  const channel = await readChannel(clients, deployment, id)
  const total = (await signed(id)) + need
  // Less than a day left, or not enough in it: top up and extend.
  if (total > channel.deposit || channel.expiry < now + 86_400n) {
    await topUpChannel(clients, deployment, { channel: id, amount: total > channel.deposit ? total - channel.deposit + deposit : 0n, expiry: expiry > channel.expiry ? expiry : channel.expiry })
  }
  return id
}

/**
 * `commons infer "prompt"`: asks a provider of the ServiceRegistry for a continuation,
 * paid through the client's payment channel to it (opened or topped up as needed), over
 * libp2p; checks the receipt's signature and prints the text (streamed) or, with --json,
 * the answer and its receipt.
 */
export function inferCommand (program: Command): void {
  const infer = withChainOptions(program.command('infer').argument('<prompt>', 'the text to continue'))
    .description('pay a provider to continue a prompt; the answer comes with a receipt signed by the provider')
    .option('--provider <peer|address|id|auto>', 'which service: auto (the cheapest within --max-price), a service id, a provider address or peer id', 'auto')
    .option('--tokens <n>', 'tokens to generate', wholeOption('--tokens', { min: 1 }), 64)
    // Required, but checked in the action: commander would ask `infer dispute` for it too.
    .option('--max-price <tokens>', 'most to pay per 1,000 tokens (required)', amountOption('--max-price'))
    .option('--seed <n>', 'sample under this seed (greedy without one)', wholeOption('--seed'))
    .option('--temperature <t>', 'sampling temperature', numberOption('--temperature'))
    .option('--top-k <k>', 'sample among the k most likely tokens', wholeOption('--top-k', { min: 1 }))
    .option('--top-p <p>', 'sample among the most likely tokens up to p', numberOption('--top-p', { above: 0, max: 1 }))
    .option('--deposit <tokens>', 'deposit of a channel opened for this (or added when it runs low)', amountOption('--deposit'), '1')
    .option('--days <n>', 'how long a new or extended channel lasts', wholeOption('--days', { min: 1 }), 7)
    .option('--verify', 'replay the answer with its model and dispute it on-chain if a token differs', false)
    .option('--model <run|cid>', 'the model to replay answers with (--verify, dispute): a run directory or a run CID; default the service\'s model CID, fetched from the network if this home lacks it')
    .action(async (prompt: string, opts: InferOptions, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      if (opts.maxPrice === undefined) throw new UsageError('required option \'--max-price <tokens>\' not specified', { hint: 'the most to pay per 1,000 tokens, e.g. --max-price 0.05' })
      const { clients, deployment } = await deploymentOf(options)
      const { checkReceiptSignature, costOf, requestInference, startNetwork } = await import('@commons/node')
      const home = homeOf(options)
      const service = await chooseService(clients, deployment, opts.provider, parseEther(opts.maxPrice))
      const address = service.endpoint.split(/\s+/).find(e => e.startsWith('/'))
      if (address === undefined) throw new InvalidChainInputError(`service ${service.id} names no libp2p address: "${service.endpoint}"`, { hint: 'use its HTTP endpoint with an OpenAI client instead' })
      // A byte is at most one token: the voucher covers the prompt's bytes plus the output.
      const cost = costOf(Buffer.byteLength(prompt) + opts.tokens, service.pricePer1k)
      const channel = await channelFor(clients, deployment, service.provider, cost, parseEther(opts.deposit), opts.days, async c => readSigned(home, c))
      const onChain = await readChannel(clients, deployment, channel)
      const before = await readSigned(home, channel)
      const cumulative = (before > onChain.claimed ? before : onChain.claimed) + cost
      const voucher = await signVoucher(clients.account, deployment, channel, cumulative)
      await writeSigned(home, channel, cumulative)
      const store = await openStore(home)
      const network = await startNetwork({ blockstore: store.blocks })
      try {
        note(options, `asking service ${service.id} of ${service.provider} at ${tokens(service.pricePer1k)} per 1,000 tokens (voucher for ${tokens(cumulative)} in all)`)
        const stream = options.json !== true && process.stdout.isTTY
        const answer = await requestInference(network, address, {
          prompt, tokens: opts.tokens, seed: opts.seed ?? null, temperature: opts.temperature, topK: opts.topK ?? null, topP: opts.topP ?? null, voucher: voucherToJson(voucher)
        }, stream ? text => { process.stdout.write(text) } : undefined)
        await checkReceiptSignature(deployment, answer.receipt)
        // What the provider did not spend stays signed for: the next voucher starts from it.
        await writeSigned(home, channel, BigInt(answer.receipt.spent) > cumulative ? BigInt(answer.receipt.spent) : cumulative)
        if (stream) process.stdout.write('\n')
        const check = opts.verify
          ? await verifyAnswer(options, { clients, deployment }, opts.model, { prompt, outputTokens: answer.outputTokens, receipt: answer.receipt }, { store, network: async () => network })
          : undefined
        emit(options, { text: answer.text, prompt, outputTokens: answer.outputTokens, service: service.id, provider: service.provider, channel, paid: answer.receipt.cost, receipt: answer.receipt, check }, () =>
          stream ? `(paid ${tokens(answer.receipt.cost)}; receipt signed by ${answer.receipt.provider})` : answer.text)
      } finally {
        await network.stop()
        await store.close()
      }
    })
  inferDisputeCommand(infer)
}
