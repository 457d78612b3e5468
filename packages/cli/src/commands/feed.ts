import { Option, type Command } from 'commander'
import { isAddress, parseUnits, type Address } from 'viem'
import {
  ContractRevertError, DEFAULT_MAX_AGE, DEVNET_FEED_UPDATER_INDEX, InvalidChainInputError, NotDeployedError, priceFeedAbi, readPrice,
  requireFresh, runFeedUpdater, setFeedUpdater, updatePrice, type Clients, type Deployment, type PriceReading
} from '@commons/chain/core'
import { clientsOf, deploymentOf, manifestOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit } from '../output.ts'
import { DEFAULT_FEED_INTERVAL, seconds } from '../feedUpdaterProcess.ts'
import { pidAlive } from '../pidAlive.ts'

function chainOptions (command: Command): ChainOptions {
  return command.optsWithGlobals<ChainOptions>()
}

/** A price as people write it ("3012.5"), in the feed's units; > 0 and no more decimals than the feed has. */
function parsePrice (value: string, decimals: number): bigint {
  if (!/^\d+(\.\d+)?$/.test(value.trim())) {
    throw new InvalidChainInputError(`"${value}" is not a price`, { hint: 'give a positive decimal number, for example commons feed update 3012.50' })
  }
  const fraction = value.trim().split('.')[1] ?? ''
  if (fraction.length > decimals) {
    throw new InvalidChainInputError(`"${value}" has more than the feed's ${decimals} decimals`, { hint: `round it to ${decimals} decimals` })
  }
  const answer = parseUnits(value.trim(), decimals)
  if (answer <= 0n) throw new InvalidChainInputError(`a price must be > 0, not "${value}"`, { hint: 'a feed answer of 0 or less means no price; the contract refuses it' })
  return answer
}

/** JSON of a reading: ids and answers as strings (a real feed's round ids pass 2^53). */
function readingJson (r: PriceReading): Record<string, unknown> {
  return {
    feed: r.feed, description: r.description, decimals: r.decimals, roundId: r.roundId.toString(), answer: r.answer.toString(), price: r.price,
    updatedAt: Number(r.updatedAt), age: Number(r.age), maxAge: Number(r.maxAge), verdict: r.verdict
  }
}

function readingLine (r: PriceReading): string {
  const when = new Date(Number(r.updatedAt) * 1000).toISOString()
  const verdict = r.verdict === 'fresh' ? 'fresh' : 'STALE'
  return `${r.description} ${r.price}  (round ${r.roundId}, updated ${when}, ${r.age} s ago): ${verdict}, max age ${r.maxAge} s`
}

/** The chain options with the updater's own key as the default signer on a devnet. */
function asUpdater (options: ChainOptions): ChainOptions {
  const keyed = options.key !== undefined || process.env.COMMONS_KEY !== undefined || options.account !== undefined
  return keyed ? options : { ...options, account: DEVNET_FEED_UPDATER_INDEX }
}

export function feedCommand (program: Command): void {
  const feed = program.command('feed').description('the price feed (Chainlink-compatible): read it, post to it, keep a devnet\'s fresh')

  withChainOptions(feed.command('read'))
    .description('the latest price and whether it is fresh; exits 1 if it is older than --max-age')
    .option('--max-age <seconds>', `a price older than this is stale (default ${DEFAULT_MAX_AGE})`, seconds('--max-age', 0, true))
    .option('--allow-stale', 'print a stale price and exit 0 (it is still marked stale)')
    .action(async (opts: { maxAge?: number, allowStale?: boolean }, command: Command) => {
      const options = chainOptions(command)
      const { clients, deployment } = await deploymentOf(options)
      const reading = await readPrice(clients, deployment, { maxAge: opts.maxAge })
      emit(options, readingJson(reading), () => readingLine(reading))
      if (opts.allowStale !== true) requireFresh(reading)
    })

  withChainOptions(feed.command('update').argument('<price>', 'the new price, a positive decimal (e.g. 3012.50)'))
    .description('post a price as the next round (the account must hold the updater role)')
    .action(async (price: string, _opts, command: Command) => {
      const options = chainOptions(command)
      const { clients, deployment } = await deploymentOf(options)
      const decimals = await clients.public.readContract({ address: deployment.contracts.priceFeed, abi: priceFeedAbi, functionName: 'decimals' })
      const answer = parsePrice(price, decimals)
      try {
        const { roundId, receipt } = await updatePrice(clients, deployment, answer)
        const reading = await readPrice(clients, deployment)
        emit(options, { roundId: roundId.toString(), answer: answer.toString(), price: reading.price, block: Number(receipt.blockNumber), transaction: receipt.transactionHash },
          () => `posted ${reading.description} ${reading.price} as round ${roundId}`)
      } catch (error) {
        if (error instanceof ContractRevertError && error.details.error === 'NotUpdater') {
          throw new ContractRevertError(`${clients.account.address} does not hold the feed's updater role`, {
            hint: `the feed's owner grants it with commons feed grant ${clients.account.address}`, details: error.details, cause: error
          })
        }
        throw error
      }
    })

  withChainOptions(feed.command('grant').argument('<address>', 'the account to grant (or revoke) the updater role'))
    .description('grant the updater role (only the feed\'s owner, the deployer by default)')
    .option('--revoke', 'take the role away instead')
    .action(async (address: string, opts: { revoke?: boolean }, command: Command) => {
      const options = chainOptions(command)
      if (!isAddress(address)) throw new InvalidChainInputError(`"${address}" is not an address`, { hint: 'give a 0x-prefixed 20-byte address' })
      const { clients, deployment } = await deploymentOf(options)
      const allowed = opts.revoke !== true
      await setFeedUpdater(clients, deployment, address as Address, allowed)
      emit(options, { updater: address, allowed }, () => `${address} ${allowed ? 'may now post prices' : 'may no longer post prices'}`)
    })

  withChainOptions(feed.command('updater'))
    .description(`post a price every --interval seconds from a seeded random walk, until stopped (commons chain up runs one; on a devnet it signs with development account ${DEVNET_FEED_UPDATER_INDEX})`)
    .option('--interval <seconds>', `seconds between posts (default ${DEFAULT_FEED_INTERVAL})`, seconds('--interval', 0.05))
    .option('--seed <n>', 'seed of the random walk (default: the devnet\'s)', (v: string) => {
      if (!/^\d+$/.test(v)) throw new InvalidChainInputError(`--seed must be a whole number, not "${v}"`)
      return BigInt(v)
    })
    .addOption(new Option('--devnet-pid <pid>', 'stop when this devnet process is gone').argParser(Number).hideHelp())
    .action(async (opts: { interval?: number, seed?: bigint, devnetPid?: number }, command: Command) => {
      const options = asUpdater(chainOptions(command))
      const controller = new AbortController()
      process.once('SIGINT', () => controller.abort())
      process.once('SIGTERM', () => controller.abort())
      let connected: Clients | null = null
      const log = (line: string): void => { process.stderr.write(`${new Date().toISOString()} ${line}\n`) }
      log(`feed updater started (pid ${process.pid})`)
      // Its devnet is watched on a clock of its own, not only before each post: a post in
      // flight when the devnet died waits on a receipt that never comes. Nothing is left to
      // finish then, so the process ends at once rather than when that wait gives up.
      const devnetPid = opts.devnetPid
      const watch = devnetPid === undefined
        ? undefined
        : setInterval(() => {
          if (pidAlive(devnetPid)) return
          log(`devnet (pid ${devnetPid}) is gone; stopping`)
          controller.abort()
          clearInterval(watch)
          setTimeout(() => process.exit(0), 1000).unref()
        }, 250)
      await runFeedUpdater({
        interval: opts.interval ?? DEFAULT_FEED_INTERVAL,
        seed: opts.seed,
        signal: controller.signal,
        log,
        // Asked before every post: the manifest appears after chain deploy and changes on a redeploy.
        target: async (): Promise<{ clients: Clients, deployment: Deployment } | null> => {
          if (controller.signal.aborted) return null
          connected ??= await clientsOf(options)
          let deployment: Deployment
          try {
            deployment = (await manifestOf(options, connected.public.chain.id)).deployment
          } catch {
            return null
          }
          const code = await connected.public.getCode({ address: deployment.contracts.priceFeed })
          if (code === undefined || code === '0x') {
            throw new NotDeployedError(`no price feed at ${deployment.contracts.priceFeed}`, { hint: 'run commons chain deploy' })
          }
          return { clients: connected, deployment }
        }
      })
      clearInterval(watch)
      log('feed updater stopped')
    })
}
