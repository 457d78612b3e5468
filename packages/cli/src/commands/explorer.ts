import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { generatePrivateKey } from 'viem/accounts'
import { connect, readManifest, type Clients, type Deployment } from '@commons/chain/core'
import { homeOf, manifestFile, manifestOf, readDevnet } from '../chainContext.ts'
import { portOption, wholeOption } from '../optionParsers.ts'
import { emit, note, type GlobalOptions } from '../output.ts'

interface ExplorerCommandOptions extends GlobalOptions {
  rpc?: string
  port: number
  host: string
  pollMs: number
}

/**
 * The home's own chain and deployment as the other commands find them: --rpc, else its
 * devnet, else its manifest's RPC; the manifest kept for that chain. A home with only a
 * demo under it is left to startExplorer, which finds the demo's manifest and devnet.
 */
async function homeChain (options: ExplorerCommandOptions): Promise<{ clients?: Clients, deployment?: Deployment }> {
  if (!existsSync(manifestFile(options))) return {}
  const rpcUrl = options.rpc ?? (await readDevnet(options))?.rpcUrl ?? (await readManifest(manifestFile(options))).rpcUrl
  // The explorer never signs: a throwaway key.
  const clients = await connect(rpcUrl, generatePrivateKey())
  return { clients, deployment: (await manifestOf(options, clients.public.chain.id)).deployment }
}

/**
 * `commons explorer`: the home's deployment, indexed from its chain events into
 * `<home>/explorer/index.db` and served as web pages and JSON on 127.0.0.1; runs until
 * Ctrl-C, indexing new blocks as they come. Needs no wallet.
 */
export function explorerCommand (program: Command): void {
  program.command('explorer')
    .description('browse the datasets, DAOs, jobs, disputes, accounts and price of the home\'s deployment in a web page; runs until Ctrl-C')
    .option('--rpc <url>', 'the chain to read (default: the home\'s devnet if commons chain up runs one, else the deployment manifest\'s)')
    .option('--port <n>', 'port on the host (0: any free port)', portOption('--port'), 8090)
    .option('--host <address>', 'address to listen on (the pages are public data; 127.0.0.1 keeps them on this machine)', '127.0.0.1')
    .option('--poll-ms <n>', 'milliseconds between looks for new blocks', wholeOption('--poll-ms', { min: 100 }), 2000)
    .option('--json', 'print the URL and the index as JSON')
    .action(async (_opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ExplorerCommandOptions>()
      const { startExplorer } = await import('@commons/explorer')
      note(options, 'indexing the chain from the deployment block')
      const explorer = await startExplorer({
        home: homeOf(options), rpcUrl: options.rpc, port: options.port, host: options.host, pollMs: options.pollMs, ...await homeChain(options),
        log: line => { note(options, line) }
      })
      try {
        emit(options, { url: explorer.url, indexedTo: explorer.ctx.index.meta('indexedTo'), stores: explorer.ctx.content.dirs }, () =>
          `explorer at ${explorer.url} (indexed to block ${explorer.ctx.index.meta('indexedTo') ?? '?'}; content from ${explorer.ctx.content.dirs.length} store(s)); Ctrl-C stops it`)
        await new Promise<void>(resolve => {
          process.once('SIGINT', resolve)
          process.once('SIGTERM', resolve)
        })
      } finally {
        await explorer.stop()
      }
    })
}
