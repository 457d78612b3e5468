import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { isAddress, parseEther, type Address } from 'viem'
import { InvalidChainInputError, tokenBalance, transferTokens } from '@commons/chain/core'
import { deploymentOf, homeOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit } from '../output.ts'
import { tokens } from '../revertText.ts'
import { amountOption } from '../optionParsers.ts'

/**
 * `commons chain fund ADDRESS`: on a local devnet, gives an account ETH for gas
 * (anvil_setBalance) and tokens from the signer (the deployer, development account 0,
 * holds the supply), so a new node key can stake and a new member can pay.
 */
export function fundCommand (program: Command): void {
  const chain = program.commands.find(c => c.name() === 'chain')
  if (chain === undefined) return
  withChainOptions(chain.command('fund').argument('<address>', 'account to fund, or "node" for the node of this home (its key is made at its first start)'))
    .description('devnet only: set an account\'s ETH balance and send it tokens from the signer (default: the deployer)')
    .option('--eth <amount>', 'ETH balance to set, for gas', amountOption('--eth'), '10')
    .option('--tokens <amount>', 'tokens to send', amountOption('--tokens'), '1000')
    .action(async (target: string, opts: { eth: string, tokens: string }, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const to = target === 'node' ? await nodeAddress(homeOf(options)) : target
      if (!isAddress(to)) throw new InvalidChainInputError(`"${to}" is not an address`, { hint: 'pass 0x followed by 40 hex digits; commons node start prints the node\'s address' })
      const { clients, deployment } = await deploymentOf(options)
      if (clients.public.chain.id !== 31337) throw new InvalidChainInputError(`chain ${clients.public.chain.id} is not a local devnet`, { hint: 'on a real chain, send ETH and tokens from a wallet' })
      const wei = parseEther(opts.eth)
      await clients.public.request({ method: 'anvil_setBalance' as never, params: [to, `0x${wei.toString(16)}`] as never })
      const sent = parseEther(opts.tokens)
      if (sent > 0n) await transferTokens(clients, deployment, to as Address, sent)
      const balance = await tokenBalance(clients, deployment, to as Address)
      emit(options, { address: to, eth: wei, tokens: balance, from: clients.account.address }, () =>
        `${to} now has ${opts.eth} ETH and ${tokens(balance)} (sent ${tokens(sent)} from ${clients.account.address})`)
    })
}

/** The address of the node whose keystore is in `home`. */
async function nodeAddress (home: string): Promise<string> {
  const path = join(home, 'node', 'keystore.json')
  const keystore = await readFile(path, 'utf8').then(t => JSON.parse(t) as { address?: string }, () => null)
  if (keystore?.address === undefined) {
    throw new InvalidChainInputError(`no node key in ${home}`, { hint: 'start the node once (commons node start) to make its key, or pass an address' })
  }
  return `0x${keystore.address.replace(/^0x/, '')}`
}
