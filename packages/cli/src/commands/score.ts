import { resolve } from 'node:path'
import type { Command } from 'commander'
import { parseEther } from 'viem'
import { epochAt, epochTimes, fundEpoch, readEpoch, readScoringSchedule, readStake, registerAndStake, settleEpoch, type Clients, type Deployment } from '@commons/chain/core'
import { deploymentOf, homeOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit, note } from '../output.ts'
import { amountOption, collectOption, wholeOption } from '../optionParsers.ts'
import { tokens } from '../revertText.ts'

interface RunOptions {
  model: string[]
  stake?: string
  probes: number
  tokens: number
  poll: number
  listen?: string[]
  bootstrap?: string[]
}

const epochOption = wholeOption('--epoch')

/**
 * `commons score`: validators scoring inference providers for ScoringEpochs. `run` is the
 * scorer (paid probes, replayed, weights committed and revealed each epoch, rewards
 * claimed); `fund` adds to an epoch's pool; `show` prints an epoch; `settle` settles one.
 */
export function scoreCommand (program: Command): void {
  const score = program.command('score').description('score inference providers as a validator; fund, show and settle scoring epochs')

  withChainOptions(score.command('run'))
    .description('probe every live service for pay, replay the answers, commit and reveal weights each epoch; runs until Ctrl-C')
    .requiredOption('--model <run>', 'a run directory of a model to check services against, by state root (repeatable)', collectOption)
    .option('--stake <tokens>', 'stake this much with the validator role first (when not staked yet)', amountOption('--stake'))
    .option('--probes <n>', 'probes per service each epoch', wholeOption('--probes', { min: 1 }), 3)
    .option('--tokens <n>', 'tokens per probe', wholeOption('--tokens', { min: 1 }), 16)
    .option('--poll <seconds>', 'seconds between looks at the chain clock', wholeOption('--poll', { min: 1 }), 30)
    .option('--listen <multiaddr>', 'libp2p address to listen on (repeatable)', collectOption)
    .option('--bootstrap <multiaddr>', 'peer to connect to, ending in /p2p/<peer id> (repeatable)', collectOption)
    .option('--dispute', 'dispute on-chain every wrong answer a probe finds (needs the run\'s checkpoints/)', false)
    .action(async (opts: RunOptions & { dispute: boolean }, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const { loadServedModel, peerIdBytes, startNetwork, startScorer } = await import('@commons/node')
      const { openStore } = await import('@commons/store')
      const references = await Promise.all(opts.model.map(async dir => loadServedModel(resolve(dir))))
      const cleanups: Array<() => Promise<void>> = []
      try {
        const store = await openStore(homeOf(options))
        cleanups.push(async () => store.close())
        const network = await startNetwork({ blockstore: store.blocks, listen: opts.listen, bootstrap: opts.bootstrap })
        cleanups.push(async () => network.stop())
        if (opts.stake !== undefined && (await readStake(clients, deployment, clients.account.address)).staked === 0n) {
          await registerAndStake(clients, deployment, { peerId: peerIdBytes(network.peerId), roles: ['validator'], amount: parseEther(opts.stake) })
        }
        const scorer = startScorer({ clients, deployment, network }, {
          references, probesPerService: opts.probes, tokensPerProbe: opts.tokens, pollMs: opts.poll * 1000, dispute: opts.dispute, log: line => { note(options, line) }
        })
        cleanups.push(async () => scorer.stop())
        emit(options, { validator: clients.account.address, models: references.map(m => ({ name: m.name, root: m.root })), peerId: network.peerId }, () =>
          `scoring as ${clients.account.address}, checking ${references.map(m => `${m.name} (${m.root})`).join(', ')}`)
        await scorer.tick().catch((error: unknown) => { note(options, `scoring: ${(error as Error).message}`) })
        await new Promise<void>(resolve => {
          process.once('SIGINT', resolve)
          process.once('SIGTERM', resolve)
        })
      } finally {
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
      }
    })

  withChainOptions(score.command('fund'))
    .description('add tokens to a scoring epoch\'s reward pool (the current epoch by default)')
    .requiredOption('--amount <tokens>', 'tokens to add', amountOption('--amount'))
    .option('--epoch <n>', 'the epoch to fund', epochOption)
    .action(async (opts: { amount: string, epoch?: number }, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const epoch = opts.epoch === undefined ? (await currentEpoch(clients, deployment)).epoch : BigInt(opts.epoch)
      await fundEpoch(clients, deployment, epoch, parseEther(opts.amount))
      const { pool } = await readEpoch(clients, deployment, epoch)
      emit(options, { epoch, pool }, () => `epoch ${epoch}: pool ${tokens(pool)}`)
    })

  withChainOptions(score.command('show'))
    .description('print a scoring epoch: phase, pool, consensus weights and payouts (the current epoch by default)')
    .option('--epoch <n>', 'the epoch to show', epochOption)
    .action(async (opts: { epoch?: number }, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const now = await currentEpoch(clients, deployment)
      const epoch = opts.epoch === undefined ? now.epoch : BigInt(opts.epoch)
      const phase = epoch < now.epoch ? 'over' : epoch > now.epoch ? 'not started' : now.phase
      const result = await readEpoch(clients, deployment, epoch)
      const times = epochTimes(now.schedule, epoch)
      emit(options, { ...result, phase, revealAt: times.reveal, endsAt: times.end }, () => [
        `epoch ${epoch} (${phase}${result.settled ? ', settled' : ''}): pool ${tokens(result.pool)}; reveal from ${new Date(Number(times.reveal) * 1000).toISOString()}, over at ${new Date(Number(times.end) * 1000).toISOString()}`,
        ...result.services.map(s => `  service ${s.service}: consensus ${(Number(s.consensus) / 1e18).toFixed(4)}, payout ${tokens(s.payout)}`),
        ...result.validatorPayouts.map(v => `  validator ${v.validator}: stake ${tokens(v.stake)}, payout ${tokens(v.payout)}`)
      ].join('\n'))
    })

  withChainOptions(score.command('settle'))
    .description('settle a scoring epoch that is over (anyone may): consensus and payouts')
    .requiredOption('--epoch <n>', 'the epoch to settle', epochOption)
    .action(async (opts: { epoch: number }, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const receipt = await settleEpoch(clients, deployment, BigInt(opts.epoch))
      emit(options, { epoch: opts.epoch, gasUsed: receipt.gasUsed }, () => `epoch ${opts.epoch} settled`)
    })
}

/** The epoch and phase by the chain's clock, with the schedule. */
async function currentEpoch (clients: Clients, deployment: Deployment) {
  const schedule = await readScoringSchedule(clients, deployment)
  const now = (await clients.public.getBlock({ blockTag: 'latest' })).timestamp
  return { schedule, ...epochAt(schedule, now) }
}
