import { join } from 'node:path'
import type { Command } from 'commander'
import { isAddress, parseEther, type Address, type Hex } from 'viem'
import { channelBetween, InvalidChainInputError, openChannel, readChannel, reclaimChannel, topUpChannel, type ChannelState, type Clients, type Deployment } from '@commons/chain/core'
import { deploymentOf, homeOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit } from '../output.ts'
import { amountOption, wholeOption } from '../optionParsers.ts'
import { readSigned } from '../signedVouchers.ts'
import { tokens } from '../revertText.ts'

const providerOption = (value: string): Address => {
  if (!isAddress(value)) throw new InvalidChainInputError(`"${value}" is not an address`, { hint: 'pass the provider\'s 0x address (commons serve prints it)' })
  return value
}

async function channelTo (clients: Clients, deployment: Deployment, provider: Address): Promise<Hex> {
  const id = await channelBetween(clients, deployment, clients.account.address, provider)
  if (id === null) throw new InvalidChainInputError(`you have no open channel to ${provider}`, { hint: 'open one: commons channel open --provider ADDRESS --amount N' })
  return id
}

const render = (c: ChannelState, signed: bigint): string =>
  `channel ${c.id}\n  ${c.client} -> ${c.provider}, ${c.open ? 'open' : 'closed'} until ${new Date(Number(c.expiry) * 1000).toISOString()}\n` +
  `  deposit ${tokens(c.deposit)}, claimed ${tokens(c.claimed)}, signed for ${tokens(signed)}`

/** `commons channel open|topup|show|claim|close`: the client's and the provider's sides of a payment channel. */
export function channelCommand (program: Command): void {
  const channel = program.command('channel').description('payment channels for inference: one per client and provider, paid by cumulative vouchers')
  const days = (c: Command): Command => c.option('--days <n>', 'days from now until the channel expires', wholeOption('--days', { min: 1 }), 7)

  days(withChainOptions(channel.command('open')))
    .description('open a channel to a provider with a deposit')
    .requiredOption('--provider <address>', 'the provider\'s address', providerOption)
    .requiredOption('--amount <tokens>', 'deposit', amountOption('--amount'))
    .action(async (opts: { provider: Address, amount: string, days: number }, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const now = (await clients.public.getBlock()).timestamp
      const id = await openChannel(clients, deployment, { provider: opts.provider, amount: parseEther(opts.amount), expiry: now + BigInt(opts.days) * 86_400n })
      const state = await readChannel(clients, deployment, id)
      emit(options, state, () => render(state, 0n))
    })

  days(withChainOptions(channel.command('topup')))
    .description('add to your channel to a provider and extend it')
    .requiredOption('--provider <address>', 'the provider\'s address', providerOption)
    .option('--amount <tokens>', 'tokens to add', amountOption('--amount'), '0')
    .action(async (opts: { provider: Address, amount: string, days: number }, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const id = await channelTo(clients, deployment, opts.provider)
      const before = await readChannel(clients, deployment, id)
      const now = (await clients.public.getBlock()).timestamp
      const expiry = now + BigInt(opts.days) * 86_400n
      await topUpChannel(clients, deployment, { channel: id, amount: parseEther(opts.amount), expiry: expiry > before.expiry ? expiry : before.expiry })
      const state = await readChannel(clients, deployment, id)
      emit(options, state, () => render(state, 0n))
    })

  withChainOptions(channel.command('show'))
    .description('your channel to a provider (or a channel by id): deposit, claimed, expiry, what you signed for')
    .option('--provider <address>', 'the provider\'s address', providerOption)
    .option('--id <channel>', 'a channel id')
    .action(async (opts: { provider?: Address, id?: Hex }, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      if (opts.provider === undefined && opts.id === undefined) throw new InvalidChainInputError('which channel?', { hint: 'pass --provider ADDRESS or --id CHANNEL' })
      const id = opts.id ?? await channelTo(clients, deployment, opts.provider as Address)
      const state = await readChannel(clients, deployment, id)
      const signed = await readSigned(homeOf(options), id)
      emit(options, { ...state, signed }, () => render(state, signed))
    })

  withChainOptions(channel.command('claim'))
    .description('provider: claim the best voucher of every channel in this home\'s voucher book (channels stay open)')
    .action(async (_opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const { VoucherBook } = await import('@commons/node')
      const { claimVoucher } = await import('@commons/chain')
      const book = new VoucherBook(join(homeOf(options), 'node', 'vouchers.db'))
      const claimed: Array<{ channel: Hex, paid: bigint }> = []
      try {
        for (const entry of book.all()) {
          if (entry.best === null) continue
          const state = await readChannel(clients, deployment, entry.channel)
          if (state.open && state.claimed < entry.best.cumulative) {
            await claimVoucher(clients, deployment, entry.best)
            claimed.push({ channel: entry.channel, paid: entry.best.cumulative - state.claimed })
          }
          book.setClaimed(entry.channel, state.open && state.claimed < entry.best.cumulative ? entry.best.cumulative : state.claimed)
        }
      } finally {
        book.close()
      }
      emit(options, { claimed }, () => claimed.length === 0 ? 'nothing to claim' : claimed.map(c => `claimed ${tokens(c.paid)} on ${c.channel}`).join('\n'))
    })

  withChainOptions(channel.command('close'))
    .description('client: take back what was not claimed from your expired channel to a provider')
    .requiredOption('--provider <address>', 'the provider\'s address', providerOption)
    .action(async (opts: { provider: Address }, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const id = await channelTo(clients, deployment, opts.provider)
      const before = await readChannel(clients, deployment, id)
      await reclaimChannel(clients, deployment, id)
      emit(options, { channel: id, refund: before.deposit - before.claimed }, () => `closed ${id}: ${tokens(before.deposit - before.claimed)} back`)
    })
}
