import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { formatEther, parseEther, type Address } from 'viem'
import {
  actions, createDao, DEFAULT_DAO_PARAMS, escrowedSharesOf, escrowToFork, execute, executeFork, InvalidChainInputError, listDaos, propose, proposalState, queue, readDao,
  vote, withdrawFromForkEscrow, SUPPORT, type Action, type JobSpec
} from '@commons/chain/core'
import { daoAddress, deploymentOf, homeOf, parseAccountShares, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit, note, progress, progressDone } from '../output.ts'
import { wholeOption } from '../optionParsers.ts'

/** Seconds `dao vote` waits for a pending proposal's vote to open (a devnet DAO opens it a second after the proposal; a longer delay ends in the Governor's own error). */
const VOTE_OPEN_WAIT_S = 30

/** A parser of a whole number of seconds, `min` up to what the DAO stores (32 bits). */
const secondsParser = (flag: string, min: number): (value: string) => number => wholeOption(flag, { min, max: 0xffffffff, what: 'a whole number of seconds' })

function chainOptions (command: Command): ChainOptions {
  return command.optsWithGlobals<ChainOptions>()
}

/** A head given as a CID, or as a local dataset name meaning its head. */
async function headOf (options: ChainOptions, ref: string): Promise<string> {
  if (/^(baf|Qm)/.test(ref)) return ref
  // Loaded here: the store is only needed for a name (most DAO commands start faster without it).
  const { openStore, readHead } = await import('@commons/store')
  const store = await openStore(homeOf(options))
  try {
    return (await readHead(store, ref)).toString()
  } finally {
    await store.close()
  }
}

function parseShares (value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidChainInputError(`"${value}" is not a number of shares`, { hint: 'pass a whole number, e.g. --shares 10' })
  return BigInt(value)
}

function parseProposalId (value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidChainInputError(`"${value}" is not a proposal id`, { hint: 'commons dao show DAO lists them' })
  return BigInt(value)
}

/** A job spec from a JSON file: amounts in whole tokens, times in seconds. */
async function readJobSpec (path: string): Promise<JobSpec> {
  let json: Record<string, string | number>
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as Record<string, string | number>
  } catch (cause) {
    if (!(cause instanceof SyntaxError)) throw cause
    throw new InvalidChainInputError(`job spec ${path} is not valid JSON`, { hint: 'write it with commons job spec ... > job.json', cause })
  }
  for (const field of ['datasetCid', 'tokensRoot', 'recipeCid', 'programHash', 'modelHeader', 'seed', 'steps', 'reward', 'jobStake', 'trainingTime', 'challengeWindow']) {
    if (json[field] === undefined) throw new InvalidChainInputError(`job spec ${path} lacks "${field}"`, { hint: 'see commons dao propose --help for the fields' })
  }
  return {
    datasetCid: String(json.datasetCid),
    tokensRoot: json.tokensRoot as `0x${string}`,
    recipeCid: String(json.recipeCid),
    programHash: json.programHash as `0x${string}`,
    modelHeader: json.modelHeader as `0x${string}`,
    seed: BigInt(json.seed),
    steps: Number(json.steps),
    reward: parseEther(String(json.reward)),
    jobStake: parseEther(String(json.jobStake)),
    trainingTime: BigInt(json.trainingTime),
    challengeWindow: BigInt(json.challengeWindow)
  }
}

export function daoCommand (program: Command): void {
  const dao = program.command('dao').description('dataset DAOs: proposals, votes, treasury and forks')

  withChainOptions(dao.command('create').argument('<name>', 'name of the DAO (usually the dataset name)'))
    .description('create the DAO of a dataset')
    .requiredOption('--head <cid|dataset>', 'canonical version: a CID, or a local dataset name for its head')
    .option('--member <address:shares>', 'a founding member (repeatable; default: you, 100 shares)', parseAccountShares)
    .option('--voting-period <seconds>', `how long a proposal's vote lasts (default ${DEFAULT_DAO_PARAMS.votingPeriod}; governable later)`, secondsParser('--voting-period', 1))
    .option('--timelock <seconds>', `how long a passed proposal waits before it can execute (default ${DEFAULT_DAO_PARAMS.timelockDelay}; governable later)`, secondsParser('--timelock', 0))
    .action(async (name: string, opts: { head: string, member?: Array<{ account: Address, shares: bigint }>, votingPeriod?: number, timelock?: number }, command: Command) => {
      const options = chainOptions(command)
      const { clients, deployment } = await deploymentOf(options)
      const members = opts.member ?? [{ account: clients.account.address, shares: 100n }]
      // Commands find a DAO by name: a second DAO of the same name would be unreachable by it.
      const taken = (await listDaos(clients, deployment)).find(d => d.name === name)
      if (taken !== undefined) throw new InvalidChainInputError(`a DAO named "${name}" exists already (${taken.dao})`, { hint: 'choose another name; commons dao list shows them' })
      const params = { ...DEFAULT_DAO_PARAMS, votingPeriod: opts.votingPeriod ?? DEFAULT_DAO_PARAMS.votingPeriod, timelockDelay: opts.timelock ?? DEFAULT_DAO_PARAMS.timelockDelay }
      const created = await createDao(clients, deployment, { name, head: await headOf(options, opts.head), members, params })
      emit(options, { dao: created.dao, name, members, gasUsed: created.receipt.gasUsed }, () => created.dao)
      note(options, `created DAO "${name}" with ${members.length} members`)
    })

  withChainOptions(dao.command('list'))
    .description('the DAOs created by the factory, with their lineage')
    .action(async (_opts, command: Command) => {
      const options = chainOptions(command)
      const { clients, deployment } = await deploymentOf(options)
      const daos = await listDaos(clients, deployment)
      emit(options, daos, () => daos.length === 0 ? 'no DAOs yet; run commons dao create' : daos.map(d =>
        `${d.dao}  ${d.name}${d.parent !== '0x0000000000000000000000000000000000000000' ? `  (fork of ${d.parent})` : ''}`).join('\n'))
    })

  withChainOptions(dao.command('propose').argument('<dao>', 'DAO address or name'))
    .description('propose actions: set the head, admit a member, adopt a model, fund a job or a storage deal from the treasury')
    .requiredOption('-m, --message <text>', 'what the proposal does and why')
    .option('--set-head <cid|dataset>', 'make this version canonical')
    .option('--admit <address:shares>', 'give a member shares', parseAccountShares)
    .option('--adopt <jobId:cid>', 'adopt the model of a finished job')
    .option('--fund-job <spec.json>', 'post a training job paid from the treasury (JSON: datasetCid, tokensRoot, recipeCid, programHash, modelHeader, seed, steps, reward, jobStake, trainingTime, challengeWindow)')
    .option('--fund-storage <terms.json>', 'fund a storage deal from the treasury (JSON: version, replicas, epochs, epochBlocks, price, collateral, slashBps; see docs/storage.md)')
    .action(async (ref: string, opts: { message: string, setHead?: string, admit?: Array<{ account: Address, shares: bigint }>, adopt?: string, fundJob?: string, fundStorage?: string }, command: Command) => {
      const options = chainOptions(command)
      const { clients, deployment } = await deploymentOf(options)
      const address = await daoAddress(clients, deployment, ref)
      const list: Action[] = []
      if (opts.setHead !== undefined) list.push(actions.setHead(address, await headOf(options, opts.setHead)))
      for (const m of opts.admit ?? []) list.push(actions.admitMember(address, m.account, m.shares))
      if (opts.adopt !== undefined) {
        const [job, cid] = opts.adopt.split(':')
        if (!/^\d+$/.test(job ?? '') || cid === undefined) throw new InvalidChainInputError(`"${opts.adopt}" is not JOB_ID:MODEL_CID`)
        list.push(actions.adoptModel(address, BigInt(job), cid))
      }
      if (opts.fundJob !== undefined) list.push(actions.fundJob(address, deployment.contracts.market, await readJobSpec(opts.fundJob)))
      if (opts.fundStorage !== undefined) list.push(...await (await import('./storage.ts')).storageFundingActions(options, deployment, opts.fundStorage))
      if (list.length === 0) throw new InvalidChainInputError('a proposal needs at least one action', { hint: 'pass --set-head, --admit, --adopt, --fund-job or --fund-storage' })
      const { proposalId, receipt } = await propose(clients, address, { actions: list, description: opts.message })
      emit(options, { dao: address, proposalId, actions: list.length, gasUsed: receipt.gasUsed }, () => String(proposalId))
      note(options, `proposal ${proposalId} created; vote with commons dao vote ${ref} ${proposalId} for`)
    })

  withChainOptions(dao.command('vote').argument('<dao>', 'DAO address or name').argument('<proposal>', 'proposal id').argument('<support>', 'for, against or abstain'))
    .description('vote on a proposal with your shares at its snapshot')
    .action(async (ref: string, id: string, support: string, _opts, command: Command) => {
      const options = chainOptions(command)
      if (!(support in SUPPORT)) throw new InvalidChainInputError(`"${support}" is not a vote`, { hint: 'vote for, against or abstain' })
      const { clients, deployment } = await deploymentOf(options)
      const address = await daoAddress(clients, deployment, ref)
      const proposalId = parseProposalId(id)
      // Voting opens the second after the proposal's snapshot: a vote sent in the same
      // second as the proposal (a script's next line) would be refused as pending.
      let state = await proposalState(clients, address, proposalId)
      for (let waited = 0; state === 'pending' && waited < VOTE_OPEN_WAIT_S; waited++) {
        progress(options, `proposal ${id} is pending; waiting for its vote to open...`)
        await new Promise(resolve => setTimeout(resolve, 1000))
        state = await proposalState(clients, address, proposalId)
      }
      progressDone(options)
      const receipt = await vote(clients, address, proposalId, support as keyof typeof SUPPORT)
      emit(options, { dao: address, proposalId: id, support, gasUsed: receipt.gasUsed }, () => `voted ${support} on proposal ${id}`)
    })

  withChainOptions(dao.command('execute').argument('<dao>', 'DAO address or name').argument('<proposal>', 'proposal id'))
    .description('queue a proposal that passed and execute it once its timelock is over')
    .option('--wait', 'wait for the vote to end and the timelock to pass')
    .action(async (ref: string, id: string, opts: { wait?: boolean }, command: Command) => {
      const options = chainOptions(command)
      const { clients, deployment } = await deploymentOf(options)
      const address = await daoAddress(clients, deployment, ref)
      const proposalId = parseProposalId(id)
      let state = await proposalState(clients, address, proposalId)
      while (opts.wait === true && (state === 'pending' || state === 'active')) {
        progress(options, `proposal ${id} is ${state}; waiting for the vote to end...`)
        await new Promise(resolve => setTimeout(resolve, 1000))
        state = await proposalState(clients, address, proposalId)
      }
      progressDone(options)
      if (state === 'succeeded') {
        await queue(clients, address, proposalId, BigInt(deployment.block))
        state = 'queued'
        note(options, `proposal ${id} queued`)
      }
      if (state !== 'queued') throw new InvalidChainInputError(`proposal ${id} is ${state}, so it cannot be executed`, { hint: state === 'pending' || state === 'active' ? 'wait for the vote to end, or pass --wait' : state === 'expired' ? 'it passed but was not executed within the execution period; propose it again' : 'only a proposal that passed can be executed; see commons dao show' })
      for (;;) {
        try {
          const receipt = await execute(clients, address, proposalId, BigInt(deployment.block))
          emit(options, { dao: address, proposalId, executed: true, gasUsed: receipt.gasUsed }, () => `proposal ${id} executed`)
          return
        } catch (error) {
          const wait = (error as { details?: { error?: string } }).details?.error === 'TimelockNotPassed'
          if (!wait || opts.wait !== true) throw error
          note(options, 'waiting for the timelock...')
          await new Promise(resolve => setTimeout(resolve, 2000))
        }
      }
    })

  withChainOptions(dao.command('fork').argument('<dao>', 'DAO address or name'))
    .description('escrow shares to fork; once the escrow passes the threshold the fork executes with your pro-rata treasury')
    .option('--shares <n>', 'shares to escrow, or with --withdraw to take back (default: all of yours)', parseShares)
    .option('--withdraw', 'take shares back out of the fork escrow (a fork below its threshold never executes)')
    .action(async (ref: string, opts: { shares?: bigint, withdraw?: boolean }, command: Command) => {
      const options = chainOptions(command)
      const { clients, deployment } = await deploymentOf(options)
      const address = await daoAddress(clients, deployment, ref)
      if (opts.withdraw === true) {
        const escrowed = await escrowedSharesOf(clients, address, clients.account.address)
        const shares = opts.shares ?? escrowed
        if (shares === 0n || shares > escrowed) throw new InvalidChainInputError(`you have ${escrowed} shares in the fork escrow of ${ref}, so ${shares} cannot be withdrawn`, { hint: 'commons dao show DAO shows the escrow' })
        const receipt = await withdrawFromForkEscrow(clients, address, shares)
        emit(options, { dao: address, withdrawn: shares, gasUsed: receipt.gasUsed }, () => `took ${shares} shares back from the fork escrow`)
        return
      }
      const mine = (await readDao(clients, address, BigInt(deployment.block))).members.find(m => m.account.toLowerCase() === clients.account.address.toLowerCase())?.shares ?? 0n
      const shares = opts.shares ?? mine
      if (shares > 0n) await escrowToFork(clients, address, shares)
      const state = await readDao(clients, address, BigInt(deployment.block))
      const all = state.totalShares + state.escrowedToFork
      if (state.escrowedToFork * 10000n < all * BigInt(state.params.forkThresholdBps) || state.escrowedToFork === 0n) {
        emit(options, { dao: address, escrowed: state.escrowedToFork, of: all, thresholdBps: state.params.forkThresholdBps, forked: false }, () =>
          `escrowed ${shares} shares; ${state.escrowedToFork} of ${all} in escrow, the fork needs ${state.params.forkThresholdBps / 100}%`)
        return
      }
      const { fork, treasury, receipt } = await executeFork(clients, address)
      emit(options, { dao: address, fork, treasury, forked: true, gasUsed: receipt.gasUsed }, () => `forked: new DAO ${fork} with ${formatEther(treasury)} COM of the treasury`)
    })

  withChainOptions(dao.command('show').argument('<dao>', 'DAO address or name'))
    .description('head and its history, members, treasury, parameters, proposals, lineage and forks')
    .action(async (ref: string, _opts, command: Command) => {
      const options = chainOptions(command)
      const { clients, deployment } = await deploymentOf(options)
      const d = await readDao(clients, await daoAddress(clients, deployment, ref), BigInt(deployment.block))
      emit(options, d, () => [
        `DAO ${d.name} at ${d.address}`,
        `head       ${d.head ?? '(none)'}`,
        `treasury   ${formatEther(d.treasury)} COM`,
        `shares     ${d.totalShares} (${d.escrowedToFork} escrowed to fork)`,
        d.lineage.forkPoint !== null ? `forked from ${d.lineage.parent} at ${d.lineage.forkPoint}` : 'original (not a fork)',
        'members:', ...d.members.map(m => `  ${m.account}  ${m.shares}`),
        'head history:', ...d.headHistory.map(h => `  block ${h.block}: ${h.from ?? '(none)'} -> ${h.to} (proposal ${h.proposalId})`),
        'proposals:', ...d.proposals.map(p => `  #${p.id} ${p.state.padEnd(9)} for ${p.forVotes} against ${p.againstVotes} abstain ${p.abstainVotes}  ${p.description}`),
        ...(d.forks.length > 0 ? ['forks:', ...d.forks.map(f => `  ${f.dao}  ${f.shares} shares, ${formatEther(f.treasury)} COM`)] : [])
      ].join('\n'))
    })
}
