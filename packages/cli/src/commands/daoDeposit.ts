import type { Command } from 'commander'
import { parseEther } from 'viem'
import { InvalidChainInputError, readDao, transferTokens } from '@commons/chain/core'
import { daoAddress, deploymentOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit } from '../output.ts'
import { tokens } from '../revertText.ts'

/**
 * `commons dao deposit DAO AMOUNT`: adds tokens to a DAO's treasury, which is the DAO's
 * token balance, so `dao propose --fund-job` has something to pay the job with.
 */
export function daoDepositCommand (program: Command): void {
  const dao = program.commands.find(c => c.name() === 'dao')
  if (dao === undefined) return
  withChainOptions(dao.command('deposit').argument('<dao>', 'DAO address or name').argument('<tokens>', 'tokens to add to the treasury, like 500 or 2.5'))
    .description('add tokens to a DAO\'s treasury (it pays the jobs the DAO funds)')
    .action(async (ref: string, amount: string, _opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      if (!/^\d+(\.\d+)?$/.test(amount) || parseEther(amount) === 0n) throw new InvalidChainInputError(`the amount must be tokens above zero, like 500 or 2.5, got "${amount}"`, { hint: 'pass a number of tokens' })
      const { clients, deployment } = await deploymentOf(options)
      const address = await daoAddress(clients, deployment, ref)
      const receipt = await transferTokens(clients, deployment, address, parseEther(amount))
      const { treasury } = await readDao(clients, address, BigInt(deployment.block))
      emit(options, { dao: address, deposited: parseEther(amount), treasury, gasUsed: receipt.gasUsed }, () => `deposited ${amount} COM; the treasury of ${ref} holds ${tokens(treasury)}`)
    })
}
