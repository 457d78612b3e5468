import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { privateKeyToAccount } from 'viem/accounts'
import type { Hex, LocalAccount } from 'viem'
import { devnetAccount, InvalidChainInputError } from '@commons/chain/core'
import { openStore } from '@commons/store'
import type { ToolContext } from '@commons/agent'
import { deploymentOf, homeOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { withHomeAgents } from './agentNetwork.ts'

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

/** The account that signs notes: --key or $COMMONS_KEY, else development account --account (default 0). */
function signerOf (options: ChainOptions): LocalAccount {
  const key = options.key ?? process.env.COMMONS_KEY
  if (key === undefined) return devnetAccount(options.account ?? 0) as LocalAccount
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new InvalidChainInputError('the key must be 32 bytes of hex, 0x-prefixed', { hint: 'pass --key 0x... or set COMMONS_KEY' })
  return privateKeyToAccount(key as Hex)
}

/** The tools' view of a home: its store, its chain (on first use) and its signing account. */
export async function homeToolContext (options: ChainOptions): Promise<ToolContext> {
  const { toolContext } = await import('@commons/agent')
  return toolContext({
    openStore: async () => openStore(homeOf(options)),
    connectChain: async () => deploymentOf(options),
    signer: async () => signerOf(options)
  })
}

export function mcpCommand (program: Command): void {
  withChainOptions(program.command('mcp'))
    .description('serve this node\'s tools to MCP clients (Claude Desktop, IDEs, other agents) over stdio: price, datasets, jobs, DAO proposals, shared knowledge, agents')
    .action(async (_opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      // Loaded here, not at start-up: every other command would pay for the MCP SDK.
      const { commonsTools, serveMcpStdio } = await import('@commons/agent')
      // agents_list / agent_ask reach the agents `commons agent serve` has seen on this home.
      const ctx = await withHomeAgents(await homeToolContext(options), homeOf(options))
      // stdout is the protocol's: nothing else may be written there.
      process.stderr.write(`commons mcp: serving ${commonsTools.length} tools over stdio for ${homeOf(options)}\n`)
      try {
        await serveMcpStdio(commonsTools, ctx, { name: 'commons', version: VERSION })
      } finally {
        await ctx.close()
      }
    })
}
