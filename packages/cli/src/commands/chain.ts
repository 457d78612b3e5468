import { createServer } from 'node:net'
import { InvalidArgumentError, type Command } from 'commander'
import { formatEther, getAddress, isAddress, type Address } from 'viem'
import { checkDeployment, deploy, DevnetError, isDevnetChain, startDevnet, tokenBalance, writeManifest, type Deployment } from '@commons/chain/core'
import { BaseError } from '@commons/errors'
import { chainManifestFile, clientsOf, forgetDevnet, homeOf, manifestFile, manifestOf, readDevnet, rpcOf, writeDevnet, type ChainOptions } from '../chainContext.ts'
import { emit, note, progress, progressDone, type GlobalOptions } from '../output.ts'
import { DEFAULT_FEED_INTERVAL, seconds, startFeedUpdater, stopFeedUpdater } from '../feedUpdaterProcess.ts'
import { pidAlive } from '../pidAlive.ts'
import { portOption, wholeOption } from '../optionParsers.ts'

function chainOptions (command: Command): ChainOptions {
  return command.optsWithGlobals<ChainOptions>()
}

/** Adds the options every chain command shares. */
export function withChainOptions (command: Command): Command {
  return command
    .option('--rpc <url>', 'JSON-RPC endpoint (default: the devnet started by commons chain up)')
    .option('--key <hex>', 'private key to sign with (default: $COMMONS_KEY; on a devnet, a development account)')
    .option('--keystore <file>', 'encrypted keystore (Web3 Secret Storage v3) to sign with; its password from $COMMONS_PASSWORD or the terminal')
    .option('--account <n>', 'development account index on a devnet (0 to 9)', parseAccountIndex)
    .option('--confirmations <n>', 'blocks past the mining one to wait before acting on a transaction (default: 0 on a devnet, 2 elsewhere)', parseConfirmations)
    .option('--json', 'print the result as JSON')
}

/** A count of blocks to wait for, 0 to 64. */
export const parseConfirmations = wholeOption('--confirmations', { max: 64, what: 'a number of blocks' })

/** `chain deploy` found a live deployment in the home and was not told to replace it. */
export class AlreadyDeployedError extends BaseError {
  override name = 'AlreadyDeployedError'
}

/** Anvil's development accounts are the first ten of its mnemonic. */
export const parseAccountIndex = wholeOption('--account', { max: 9, what: 'a development account index' })

/** A 20-byte hex address. */
export function parseAddress (value: string): Address {
  if (!isAddress(value, { strict: false })) throw new InvalidArgumentError(`"${value}" is not an address (0x and 40 hex digits)`)
  return getAddress(value)
}

/**
 * Fails when something already listens on the loopback port: anvil would fail to bind,
 * but the RPC check would then find the other process's chain and take it for ours.
 */
async function checkPortFree (port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer()
    server.once('error', (cause: NodeJS.ErrnoException) => {
      reject(new DevnetError(`port ${port} on 127.0.0.1 is already in use${cause.code === 'EADDRINUSE' ? '' : ` (${cause.code ?? cause.message})`}`, {
        hint: 'choose another --port, or leave --port out for a free one', details: { port, code: cause.code }, cause
      }))
    })
    server.listen(port, '127.0.0.1', () => { server.close(() => { resolve() }) })
  })
}

export function chainCommand (program: Command): void {
  const chain = program.command('chain').description('the local devnet and the contract deployment')

  chain.command('up')
    .description('start a local devnet (anvil) with its state kept under the home')
    .option('--port <port>', 'loopback port (default: a free one)', portOption('--port', 1))
    .option('--detach', 'return at once and leave the devnet running (stop it with commons chain down)')
    .option('--feed-interval <seconds>', `seconds between the price feed updater's posts (default ${DEFAULT_FEED_INTERVAL})`, seconds('--feed-interval', 0.05))
    .option('--json', 'print the result as JSON')
    .action(async (opts: { port?: number, detach?: boolean, feedInterval?: number }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>()
      const running = await readDevnet(options)
      if (running !== null && pidAlive(running.pid)) {
        emit(options, running, () => `a devnet is already running at ${running.rpcUrl} (pid ${running.pid})`)
        return
      }
      if (opts.port !== undefined) await checkPortFree(opts.port)
      // Listened for from the start: a Ctrl-C while the chain starts stops it once started,
      // rather than killing this process with its devnet and updater left behind.
      const interrupted = opts.detach === true
        ? undefined
        : new Promise<void>(resolve => {
          process.once('SIGINT', resolve)
          process.once('SIGTERM', resolve)
        })
      const devnet = await startDevnet({ home: homeOf(options), port: opts.port, detached: opts.detach === true })
      const record = { rpcUrl: devnet.rpcUrl, pid: devnet.pid, port: devnet.port, startedAt: new Date().toISOString() }
      await writeDevnet(options, record)
      emit(options, record, () => `devnet running at ${devnet.rpcUrl} (pid ${devnet.pid}), state in ${devnet.stateFile}`)
      const updater = await startFeedUpdater(options, { rpcUrl: devnet.rpcUrl, devnetPid: devnet.pid, interval: opts.feedInterval ?? DEFAULT_FEED_INTERVAL, detached: opts.detach === true })
      note(options, `price feed updater running (pid ${updater.pid}), posting every ${updater.interval} s once deployed; log in ${updater.log}`)
      if (opts.detach === true) return
      note(options, 'press Ctrl-C to stop')
      await interrupted
      await updater.stop()
      await devnet.stop()
      await forgetDevnet(options)
      note(options, 'devnet stopped; its state is saved')
    })

  chain.command('down')
    .description('stop the devnet started with commons chain up --detach (its state is saved)')
    .option('--json', 'print the result as JSON')
    .action(async (_opts, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>()
      await stopFeedUpdater(options)
      const running = await readDevnet(options)
      if (running === null || !pidAlive(running.pid)) {
        await forgetDevnet(options)
        emit(options, { stopped: false }, () => 'no devnet is running for this home')
        return
      }
      process.kill(running.pid, 'SIGTERM')
      for (let i = 0; i < 200 && pidAlive(running.pid); i++) await new Promise(resolve => setTimeout(resolve, 50))
      await forgetDevnet(options)
      emit(options, { stopped: true, pid: running.pid }, () => `devnet stopped (pid ${running.pid})`)
    })

  withChainOptions(chain.command('deploy'))
    .description('deploy the contract set to the devnet, or to any EVM chain with --rpc URL and --key/--keystore, and record it under the home per chain id')
    .option('--force', 'deploy again even though the home\'s deployment is live on this chain (its manifest is replaced)')
    .option('--price-feed <address>', 'an existing Chainlink-compatible price feed to record instead of deploying one (default: Chainlink ETH / USD where the chain has a known one, else a new PriceFeed)', parseAddress)
    .action(async (opts: { force?: boolean, priceFeed?: Address }, command: Command) => {
      const options = chainOptions(command)
      const clients = await clientsOf(options)
      const chainId = clients.public.chain.id
      const previous = await manifestOf(options, chainId).catch(() => null)
      if (previous !== null) {
        const live = previous.deployment.chainId === chainId && await checkDeployment(clients, previous.deployment).then(() => true, () => false)
        if (live && opts.force !== true) {
          throw new AlreadyDeployedError(`the contracts are already deployed on chain ${chainId} (token ${previous.deployment.contracts.token}), manifest ${previous.path}`, {
            hint: 'use that deployment; pass --force to deploy a new set and replace the manifest (DAOs and jobs of the old set stay on the old contracts)',
            details: { manifest: previous.path, chainId }
          })
        }
        if (live) note(options, 'replacing the live deployment (--force)')
      }
      const me = clients.account.address
      note(options, `deploying to chain ${chainId} at ${clients.rpcUrl} as ${me} (${clients.confirmations} confirmations per transaction)`)
      const balance = await clients.public.getBalance({ address: me })
      const started = Date.now()
      const deployment = await deploy(clients, { priceFeed: opts.priceFeed, progress: line => { progress(options, `${line}...`) } })
      progressDone(options)
      const manifests = [chainManifestFile(options, chainId), manifestFile(options)]
      for (const path of manifests) await writeManifest(path, deployment)
      const spent = balance - await clients.public.getBalance({ address: me })
      const totalGas = Object.values(deployment.gas).reduce((sum, gas) => sum + BigInt(gas), 0n)
      const seconds = (Date.now() - started) / 1000
      emit(options, { ...deployment, manifests, deploymentGas: totalGas, spentWei: spent, seconds }, () => [
        `deployed to chain ${chainId} at block ${deployment.block} in ${seconds.toFixed(1)} s, by ${me}`,
        ...Object.entries(deployment.contracts).map(([name, address]) => `  ${name.padEnd(12)} ${address}${name === 'priceFeed' && deployment.priceFeedSource === 'external' ? '  (existing feed, not deployed)' : `  ${deployment.gas[name] ?? ''} gas`}`),
        `contract creation gas ${totalGas}; spent ${formatEther(spent)} ETH in all (wiring${isDevnetChain(chainId) ? ' and the devnet updater\'s gas money' : ''} included)`,
        `manifests: ${manifests.join(', ')}`
      ].join('\n'))
    })

  withChainOptions(chain.command('status'))
    .description('is the chain up, and is the deployment there')
    .action(async (_opts, command: Command) => {
      const options = chainOptions(command)
      const rpcUrl = await rpcOf(options)
      const clients = await clientsOf(options)
      const block = await clients.public.getBlockNumber()
      let deployment: Deployment | null = null
      let problem: string | null = null
      try {
        deployment = (await manifestOf(options, clients.public.chain.id)).deployment
        await checkDeployment(clients, deployment)
      } catch (error) {
        problem = (error as Error).message
      }
      const balance = deployment !== null && problem === null ? await tokenBalance(clients, deployment, clients.account.address) : null
      const status = { rpcUrl, chainId: clients.public.chain.id, block, devnet: await readDevnet(options), deployment, problem, account: clients.account.address, tokenBalance: balance }
      emit(options, status, () => [
        `chain ${status.chainId} at ${rpcUrl}, block ${block}`,
        problem === null ? `deployment: ${Object.entries(deployment?.contracts ?? {}).map(([n, a]) => `${n} ${a}`).join(', ')}` : `deployment: ${problem}`,
        `account ${clients.account.address}${balance !== null ? `: ${formatEther(balance)} COM` : ''}`
      ].join('\n'))
    })
}
