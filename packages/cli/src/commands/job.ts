import { resolve } from 'node:path'
import type { Command } from 'commander'
import { formatEther, parseEther } from 'viem'
import { allEvents, disputeGameAbi, InvalidChainInputError, postJob, readJob, readDispute, trainingMarketAbi, type JobSpec } from '@commons/chain'
import { openStore, resolveVersion } from '@commons/store'
import { readCheckedRecipe } from '../recipeLimits.ts'
import { deploymentOf, homeOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit, note } from '../output.ts'
import { amountOption, wholeOption } from '../optionParsers.ts'

interface SpecOptions {
  dataset: string
  recipe: string
  reward: string
  stake: string
  window: number
  trainingTime: number
}


function specOptions (command: Command): Command {
  return command
    .requiredOption('--dataset <cid|name>', 'dataset version CID in this home\'s store, or a dataset name for its head')
    .requiredOption('--recipe <file>', 'recipe JSON (see recipes/)')
    .requiredOption('--reward <tokens>', 'reward escrowed for the trainer', amountOption('--reward'))
    .requiredOption('--stake <tokens>', 'stake the trainer locks while it holds the job', amountOption('--stake'))
    .option('--window <seconds>', 'challenge window after submission', wholeOption('--window', { min: 1, what: 'a whole number of seconds' }), 3600)
    .option('--training-time <seconds>', 'how long a claim lasts', wholeOption('--training-time', { min: 1, what: 'a whole number of seconds' }), 3600)
}

/** The job's terms; the recipe goes into the home's blockstore so nodes serving it can hand it out. */
async function specOf (options: ChainOptions, opts: SpecOptions): Promise<JobSpec> {
  const { jobSpecFor } = await import('@commons/node')
  const { referenceContext } = await import('@commons/engine')
  const recipe = await readCheckedRecipe(resolve(opts.recipe))
  const store = await openStore(homeOf(options))
  try {
    // A name means its head: the job binds a version, never a name that moves.
    const datasetCid = (await resolveVersion(store, opts.dataset)).toString()
    return await jobSpecFor(referenceContext(), store, {
      datasetCid, recipe, reward: parseEther(opts.reward), jobStake: parseEther(opts.stake),
      trainingTime: BigInt(opts.trainingTime), challengeWindow: BigInt(opts.window)
    })
  } finally {
    await store.close()
  }
}

const specJson = (spec: JobSpec): Record<string, unknown> => ({
  ...spec, seed: Number(spec.seed), reward: formatEther(spec.reward), jobStake: formatEther(spec.jobStake),
  trainingTime: Number(spec.trainingTime), challengeWindow: Number(spec.challengeWindow)
})

export function jobCommand (program: Command): void {
  const job = program.command('job').description('training jobs on the market: their terms, posting them, their state')

  specOptions(job.command('spec'))
    .description('print the terms of a job as JSON (for commons dao propose --fund-job FILE), storing the recipe by CID')
    .option('--json', 'accepted for scripts: the terms are always JSON')
    .action(async (opts: SpecOptions, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const spec = specJson(await specOf(options, opts))
      process.stdout.write(`${JSON.stringify(spec, null, 2)}\n`)
    })

  withChainOptions(specOptions(job.command('post')))
    .description('escrow a reward and post a training job (a node on this home serves the dataset and recipe to trainers)')
    .action(async (opts: SpecOptions, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const spec = await specOf(options, opts)
      const { jobId, receipt } = await postJob(clients, deployment, spec)
      emit(options, { jobId, ...specJson(spec), gasUsed: receipt.gasUsed }, () => String(jobId))
      note(options, `posted job ${jobId}: ${spec.steps} steps on ${spec.datasetCid}, reward ${opts.reward} COM, stake ${opts.stake} COM`)
    })

  withChainOptions(job.command('list'))
    .description('every job on the market and its state')
    .action(async (_opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const count = await clients.public.readContract({ address: deployment.contracts.market, abi: trainingMarketAbi, functionName: 'jobCount' })
      const jobs: Array<{ id: bigint, status: string, requester: string, trainer: string, reward: string, steps: number }> = []
      for (let id = 0n; id < count; id++) {
        const j = await readJob(clients, deployment, id)
        jobs.push({ id, status: j.statusName, requester: j.requester, trainer: j.trainer, reward: formatEther(j.spec.reward), steps: j.spec.steps })
      }
      emit(options, jobs, () => jobs.length === 0 ? 'no jobs yet; post one with commons job post' : jobs.map(j => `${j.id}  ${j.status.padEnd(9)}  ${j.steps} steps  reward ${j.reward}  trainer ${j.trainer}`).join('\n'))
    })

  withChainOptions(job.command('show').argument('<id>', 'job id'))
    .description('one job: its terms, trainer, result and disputes')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      if (!/^\d+$/.test(id)) throw new InvalidChainInputError(`"${id}" is not a job id`, { hint: 'commons job list shows them' })
      const { clients, deployment } = await deploymentOf(options)
      const j = await readJob(clients, deployment, BigInt(id))
      const opened = await allEvents(clients, { address: deployment.contracts.disputeGame, abi: disputeGameAbi, eventName: 'DisputeOpened', args: { jobId: BigInt(id) }, fromBlock: BigInt(deployment.block) })
      const disputes = await Promise.all(opened.map(async e => {
        const d = await readDispute(clients, deployment, e.args.id as bigint)
        return { id: e.args.id, step: d.step === 0xffffffff ? 'init' : d.step, challenger: d.challenger, moves: d.moves, winner: d.winner, reason: d.reasonName }
      }))
      const shown = {
        id, status: j.statusName, requester: j.requester, trainer: j.trainer, steps: j.spec.steps, seed: j.spec.seed, reward: formatEther(j.spec.reward),
        jobStake: formatEther(j.spec.jobStake), programHash: j.spec.programHash, tokensRoot: j.spec.tokensRoot, transcriptRoot: j.transcriptRoot, attestors: j.attestors, disputes
      }
      emit(options, shown, () => [
        `job ${id}: ${shown.status}, ${shown.steps} steps, reward ${shown.reward}, trainer ${shown.trainer}`,
        `program ${shown.programHash}  tokens ${shown.tokensRoot}`,
        `transcript ${shown.transcriptRoot}; ${shown.attestors.length} attestations`,
        ...disputes.map(d => `dispute ${d.id} over step ${d.step}: ${d.winner ?? 'open'} ${d.reason} after ${d.moves} moves`)
      ].join('\n'))
    })
}
