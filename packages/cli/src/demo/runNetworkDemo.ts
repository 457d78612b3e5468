import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatEther, parseEther, type Address } from 'viem'
import { BaseError } from '@commons/errors'
import { generate, readRecipe, referenceContext, type EngineContext, type Recipe } from '@commons/engine'
import {
  actions, advanceTime, connect, createDao, deploy, devnetAccount, escrowToFork, execute, executeFork, propose, queue, readDao,
  isDevnetChain, postWalkStep, readJob, readStake, registerAndStake, startDevnet, tokenBalance, trainingMarketAbi, transferTokens, vote, writeManifest, type Deployment
} from '@commons/chain'
import { commitVersion, editRows, generateRows, initDataset, rowsToBytes } from '@commons/store'
import { parseFault, peerIdBytes, startNode, type CommonsNode, type Timings } from '@commons/node'
import { startRpcProxy } from '@commons/node/testing/rpcProxy'
import { disputesOf } from './disputesOf.ts'
import { runStorageAct, type StorageSummary } from './storageAct.ts'
import { runInferenceAct, type InferenceSummary } from './inferenceAct.ts'
import { runAgentAct, type AgentSummary } from './agentAct.ts'

/**
 * The main job (`npm start` = `commons demo`): the whole story on a local chain with
 * nodes on loopback, in one process. A community commits a dataset and runs its DAO,
 * a minority forks, training is funded by a requester and by the DAO, one trainer
 * cheats and is caught and slashed, the honest one is paid, and the requester fetches
 * the model by CID, verifies it and generates text with it.
 */

export interface DemoOptions {
  /** The demo lives in `<home>/demo`, replaced on each run. */
  home: string
  /** The cheating trainer's fault, as `--fault` takes it (default: a drawn step fault). */
  fault?: string
  seed?: number
  /** Training steps of the recipe (the tiny transformer). */
  steps?: number
  /** Transformer layers (the reduced demo of the tests uses 1). */
  layers?: number
  /**
   * The nodes reach the chain through a proxy that answers each request this many
   * milliseconds late and caps eth_getLogs at 1,000 blocks, as a hosted provider does
   * (tests: the summary must not depend on how fast the nodes hear of things).
   */
  rpcDelayMs?: number
  /**
   * A chain already running (anvil, Hardhat's network, any devnet with the development
   * accounts and the evm_increaseTime and evm_mine methods) to run on instead of
   * starting anvil; it is left running.
   */
  rpcUrl?: string
  /** What every node of the demo runs its steps on (an open backend's context); default: the reference kernels. */
  engine?: EngineContext
  /** The storage act (demo/storageAct.ts) after the model is verified; `false` leaves it out. */
  storage?: boolean
  /** The inference act (demo/inferenceAct.ts) after the model is verified; on unless false. */
  inference?: boolean
  /** The agent act (demo/agentAct.ts) after the model is verified; default on. */
  agent?: boolean
  /** The agent act's GGUF model; default the one shipped in packages/agent/model. */
  agentModel?: string
  log?: (line: string) => void
}

export interface DemoSummary {
  ok: boolean
  home: string
  rpcUrl: string
  datasets: Array<{ name: string, versions: string[] }>
  dao: { address: Address, head: string, members: number, treasury: string }
  fork: { address: Address, forkPoint: string, members: number, treasury: string }
  jobs: Array<{ id: string, fundedBy: string, trainer: string, cheater: boolean, outcome: string }>
  disputes: Array<{ id: string, job: string, step: number | 'init', winner: string, reason: string, moves: number, maxGas: number, gas: Record<string, number> }>
  balances: Array<{ who: string, before: string, after: string }>
  model: { job: string, cid: string, verified: boolean, problems: string[], prompt: string, sample: string }
  /** Wall-clock seconds from each job's posting to its end (finalized or slashed), and each node's time by kind of work. */
  timing: { jobs: Array<{ id: string, seconds: number }>, nodes: Record<string, Timings> }
  storage?: StorageSummary
  inference?: InferenceSummary
  agent?: AgentSummary
}

const DEMO_PASSWORD = 'commons-demo'

/** The repo's tiny transformer (recipes/tiny.json), shortened for the demo. */
async function demoRecipe (steps: number, layers: number): Promise<Recipe> {
  const tiny = await readRecipe(fileURLToPath(new URL('../../../../recipes/tiny.json', import.meta.url)))
  const warmupSteps = Math.min(tiny.optimizer.warmupSteps, Math.max(1, Math.floor(steps / 4)))
  return { ...tiny, name: 'demo-tiny', steps, checkpointInterval: Math.max(1, Math.ceil(steps / 6)), optimizer: { ...tiny.optimizer, warmupSteps }, model: { ...tiny.model, layers } as Recipe['model'] }
}

export class DemoError extends BaseError {
  override name = 'DemoError'
}

async function until (what: string, check: () => Promise<boolean>, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new DemoError(`the demo waited ${timeoutMs / 1000} s for ${what} in vain`, { hint: 'the nodes\' log lines above say what went wrong; their state stays under <home>/demo/nodes' })
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

/**
 * A chain the demo did not start, checked to hold the development accounts it signs
 * with (anvil's and Hardhat's default mnemonic, funded); stopping it is left to its owner.
 */
async function externalChain (rpcUrl: string): Promise<{ rpcUrl: string, stop: () => Promise<void> }> {
  const bank = await connect(rpcUrl, devnetAccount(0))
  const balance = await bank.public.getBalance({ address: bank.account.address })
  if (!isDevnetChain(bank.public.chain.id) || balance < parseEther('100')) {
    throw new DemoError(`the chain at ${rpcUrl} (id ${bank.public.chain.id}) is not a devnet whose development accounts are funded`, {
      hint: 'the demo signs as the development accounts of the mnemonic "test test ... junk" (anvil\'s and Hardhat\'s): start anvil or hardhat node, or leave --rpc out',
      details: { rpcUrl, chainId: bank.public.chain.id, balance: balance.toString() }
    })
  }
  return { rpcUrl, stop: async () => {} }
}

export async function runNetworkDemo (options: DemoOptions): Promise<DemoSummary> {
  const say = options.log ?? (() => {})
  // The demo's own corner of the home, fresh each run: its chain, its nodes.
  const home = join(options.home, 'demo')
  await rm(home, { recursive: true, force: true })
  await mkdir(home, { recursive: true })
  const recipe = await demoRecipe(options.steps ?? 60, options.layers ?? 2)
  const engine = options.engine ?? referenceContext()
  const devnet = options.rpcUrl === undefined ? await startDevnet({ home }) : await externalChain(options.rpcUrl)
  const nodes: CommonsNode[] = []
  const work = await mkdtemp(join(tmpdir(), 'commons-demo-'))
  const stops: Array<() => Promise<void>> = []
  try {
    say(`[1/9] ${options.rpcUrl === undefined ? 'local chain' : 'the chain'} at ${devnet.rpcUrl}; deploying the contracts`)
    const bank = await connect(devnet.rpcUrl, devnetAccount(0))
    const deployment: Deployment = { ...await deploy(bank, { disputeBond: parseEther('50'), moveTime: 600n }), rpcUrl: devnet.rpcUrl }
    await writeManifest(join(home, 'chain', 'deployment.json'), deployment)
    // Every event read starts at the deployment: nothing of ours is older.
    const from = BigInt(deployment.block)
    const proxy = options.rpcDelayMs === undefined ? null : await startRpcProxy({ target: devnet.rpcUrl, delayMs: options.rpcDelayMs, maxLogRange: 1000 })
    if (proxy !== null) stops.push(async () => proxy.close())
    const nodesRpc = proxy?.url ?? devnet.rpcUrl
    const [bob, carol] = await Promise.all([5, 6].map(async i => connect(devnet.rpcUrl, devnetAccount(i))))

    say('[2/9] starting nodes on loopback: a curator who also requests, two trainers (one cheats), a validator')
    const log = (name: string) => (line: string) => { say(`      ${name}: ${line}`) }
    const start = async (name: string, roles: Parameters<typeof startNode>[0]['roles'], extra: Partial<Parameters<typeof startNode>[0]> = {}): Promise<CommonsNode> => {
      const node = await startNode({
        home: join(home, 'nodes', name), rpcUrl: nodesRpc, deployment, roles, password: DEMO_PASSWORD, scryptN: 2 ** 12,
        engine, log: log(name), pollMs: 250, ...extra
      })
      nodes.push(node)
      return node
    }
    const curator = await start('curator', ['requester', 'curator'])
    const honest = await start('trainer-1', ['trainer'])
    const cheater = await start('trainer-2', ['trainer'], { fault: parseFault(options.fault ?? 'step', options.seed ?? 1) })
    const validator = await start('validator', ['validator'], { checkSteps: recipe.steps })
    // A full mesh on loopback: bitswap asks the peers a node is connected to.
    for (const [i, node] of nodes.entries()) {
      for (const other of nodes.slice(i + 1)) await node.network.connect(other.network.multiaddrs()[0])
    }
    for (const [node, eth, tokens] of [[curator, '10', '20000'], [honest, '10', '2000'], [cheater, '10', '2000'], [validator, '10', '1000']] as const) {
      await bank.wallet.sendTransaction({ to: node.address, value: parseEther(eth) })
      await transferTokens(bank, deployment, node.address, parseEther(tokens))
    }
    // Each trainer stakes enough for one job at a time (jobStake 200): whichever claims the first
    // job has no free stake left for the second, so each trainer trains exactly one of them.
    for (const [node, roles, stake] of [[honest, ['trainer'], '300'], [cheater, ['trainer'], '300'], [validator, ['validator'], '500']] as const) {
      await registerAndStake(node.clients, deployment, { peerId: peerIdBytes(node.peerId), roles: [...roles], amount: parseEther(stake) })
    }
    const who: Record<string, Address> = { curator: curator.address, 'trainer-1 (honest)': honest.address, 'trainer-2 (cheats)': cheater.address, validator: validator.address }
    const staked = { 'trainer-1 stake': honest.address, 'trainer-2 stake': cheater.address, 'validator stake': validator.address }
    const stakes = async (): Promise<Record<string, bigint>> => Object.fromEntries(await Promise.all(Object.entries(staked).map(async ([n, a]) => [n, (await readStake(bank, deployment, a)).staked] as const)))
    const before: Record<string, bigint> = { ...Object.fromEntries(await Promise.all(Object.entries(who).map(async ([name, a]) => [name, await tokenBalance(bank, deployment, a)] as const))), ...await stakes() }

    say('[3/9] the community commits a corpus in two versions')
    const name = 'community-corpus'
    await initDataset(curator.store, name)
    const source = join(work, 'corpus')
    await mkdir(source, { recursive: true })
    let rows = generateRows(200_000, 7)
    await writeFile(join(source, 'corpus.jsonl'), rowsToBytes(rows))
    const v1 = (await commitVersion(curator.store, { name, path: source, message: 'first import' })).cid.toString()
    rows = editRows(rows, 11)
    await writeFile(join(source, 'corpus.jsonl'), rowsToBytes(rows))
    const v2 = (await commitVersion(curator.store, { name, path: source, message: 'fix typos, add rows' })).cid.toString()
    say(`      v1 ${v1}\n      v2 ${v2}`)

    say('[4/9] its DAO makes v2 canonical by a proposal')
    const { dao } = await createDao(curator.clients, deployment, {
      name, head: v1, members: [{ account: curator.address, shares: 60n }, { account: bob.account.address, shares: 25n }, { account: carol.account.address, shares: 15n }]
    })
    await transferTokens(curator.clients, deployment, dao, parseEther('5000'))
    const passed = async (proposal: Parameters<typeof propose>[2]): Promise<void> => {
      const { proposalId } = await propose(curator.clients, dao, proposal)
      await advanceTime(devnet.rpcUrl, 2)
      await vote(curator.clients, dao, proposalId, 'for')
      await vote(carol, dao, proposalId, 'for')
      await advanceTime(devnet.rpcUrl, 61)
      await queue(curator.clients, dao, proposalId, from)
      await advanceTime(devnet.rpcUrl, 11)
      await execute(curator.clients, dao, proposalId, from)
    }
    await passed({ actions: [actions.setHead(dao, v2)], description: 'make v2 canonical' })
    say(`      head is now ${(await readDao(bank, dao, from)).head}`)

    say('[5/9] a minority (bob) disagrees and forks, leaving with the data and his share of the treasury')
    await escrowToFork(bob, dao, 25n)
    const { fork } = await executeFork(bob, dao)
    const forked = await readDao(bank, fork, from)
    say(`      fork ${fork} at ${forked.lineage.forkPoint}, treasury ${formatEther(forked.treasury)}`)

    say('[6/9] training on the canonical version is funded twice: by the requester, and by the DAO through a proposal')
    const jobParams = { datasetCid: v2, recipe, reward: parseEther('300'), jobStake: parseEther('200'), challengeWindow: 600n }
    const postedAt = new Map<bigint, number>()
    const endedAt = new Map<bigint, number>()
    const first = await curator.postJob(jobParams)
    postedAt.set(first, Date.now())
    await until('a trainer to claim the first job', async () => (await readJob(bank, deployment, first)).statusName !== 'open')
    const second = await bank.public.readContract({ address: deployment.contracts.market, abi: trainingMarketAbi, functionName: 'jobCount' })
    await passed({ actions: [actions.fundJob(dao, deployment.contracts.market, await curator.jobSpec(jobParams))], description: 'fund training on v2 from the treasury' })
    postedAt.set(second, Date.now())
    const watch = setInterval(() => {
      for (const id of [first, second]) {
        if (endedAt.has(id)) continue
        readJob(bank, deployment, id).then(job => {
          if (!endedAt.has(id) && (job.statusName === 'finalized' || job.statusName === 'slashed')) endedAt.set(id, Date.now())
        }, () => {})
      }
    }, 100)
    say(`      jobs ${first} (requester) and ${second} (DAO)`)

    say('[7/9] two trainers train; the validator replays the steps drawn for it; the cheater is disputed')
    // Settled: the cheater's job slashed, the honest one submitted and attested.
    const settled = async (id: bigint): Promise<boolean> => {
      const job = await readJob(bank, deployment, id)
      return job.statusName === 'slashed' || (job.statusName === 'submitted' && validator.state.job(id, 'validator')?.status === 'attested')
    }
    await until('both results to be checked and the dispute settled', async () => (await settled(first)) && (await settled(second)))

    say('[8/9] the challenge window passes; the honest trainer is paid')
    await advanceTime(devnet.rpcUrl, 601)
    await until('the honest job to be finalized', async () => {
      const jobs = await Promise.all([first, second].map(async id => readJob(bank, deployment, id)))
      return jobs.every(j => j.statusName === 'finalized' || j.statusName === 'slashed')
    })

    clearInterval(watch)
    const jobs = await Promise.all([first, second].map(async id => ({ id, job: await readJob(bank, deployment, id) })))
    const paid = jobs.find(j => j.job.statusName === 'finalized')
    say('[9/9] the requester fetches the model by CID, verifies it against the transcript and generates text')
    let modelDir: string | undefined
    let model: DemoSummary['model'] = { job: '', cid: '', verified: false, problems: ['no job was finalized'], prompt: '', sample: '' }
    if (paid !== undefined) {
      const check = await curator.verifyModel(paid.id)
      const prompt = '{"text": "'
      const { text } = await generate(engine, check.dir, prompt, { tokens: 48, seed: 1, temperature: 0.8 })
      model = { job: String(paid.id), cid: check.runCid, verified: check.verified, problems: check.problems, prompt, sample: text }
      modelDir = check.dir
      say(`      ${check.runCid} verified: ${check.verified}`)
      say(`      ${JSON.stringify(prompt + text)}`)
    }

    const storage = options.storage !== false ? await runStorageAct({ bank, deployment, dao, pass: passed, holder: curator, version: v2, start, say, until }) : undefined
    const inference = options.inference !== false && modelDir !== undefined ? await runInferenceAct({ bank, deployment, rpcUrl: devnet.rpcUrl, dir: modelDir, home: join(home, 'inference'), say }) : undefined

    // Outcomes from the chain, not from the validator's memory (which may lag behind the chain).
    const disputes = (await disputesOf(bank, deployment, [first, second])).map(r => {
      const gas = Object.fromEntries([r.open, ...r.moves].map(m => [m.name, Number(m.gas)]))
      return { id: String(r.id), job: String(r.jobId), step: r.step === 0xffffffff ? 'init' as const : r.step, winner: r.winner ?? 'unresolved', reason: r.reason, moves: r.moves.length, maxGas: Math.max(0, ...Object.values(gas)), gas }
    })
    let agent: AgentSummary | undefined
    if (options.agent !== false && paid !== undefined) {
      // The acts before moved the chain's clock on by a day: the feed's updater posts the next
      // round first, as a live network's does, so the price the agent reads is the price now.
      await postWalkStep(bank, deployment)
      agent = await runAgentAct({ user: curator, peer: validator, deployment, job: paid.id, jobs: [first, second], disputes, modelPath: options.agentModel, say, until })
    }
    // The nodes' own records (node status) catch up with the chain before they stop.
    await until('the validator to record how its disputes ended', async () => disputes.every(d => d.winner === 'unresolved' ||
      validator.state.disputes().some(r => r.id === d.id && r.role === 'challenger' && r.status.startsWith('resolved'))), 60_000)
    // The treasuries join the table: they did not exist before.
    Object.assign(who, { 'DAO treasury': dao, 'fork treasury': fork })
    Object.assign(before, { 'DAO treasury': 0n, 'fork treasury': 0n })
    const after: Record<string, bigint> = { ...Object.fromEntries(await Promise.all(Object.entries(who).map(async ([n, a]) => [n, await tokenBalance(bank, deployment, a)] as const))), ...await stakes() }
    const finalDao = await readDao(bank, dao, from)
    const summary: DemoSummary = {
      ok: false,
      home,
      rpcUrl: devnet.rpcUrl,
      datasets: [{ name, versions: [v1, v2] }],
      dao: { address: dao, head: finalDao.head ?? '', members: finalDao.members.length, treasury: formatEther(finalDao.treasury) },
      fork: { address: fork, forkPoint: forked.lineage.forkPoint ?? '', members: forked.members.length, treasury: formatEther(forked.treasury) },
      jobs: jobs.map(({ id, job }) => ({
        id: String(id), fundedBy: id === first ? 'requester' : 'dao', trainer: job.trainer,
        cheater: job.trainer.toLowerCase() === cheater.address.toLowerCase(), outcome: job.statusName
      })),
      disputes,
      balances: Object.keys(after).map(n => ({ who: n, before: formatEther(before[n] ?? 0n), after: formatEther(after[n]) })),
      model,
      timing: {
        jobs: [first, second].map(id => ({ id: String(id), seconds: ((endedAt.get(id) ?? Date.now()) - (postedAt.get(id) ?? 0)) / 1000 })),
        nodes: Object.fromEntries([['curator', curator], ['trainer-1', honest], ['trainer-2', cheater], ['validator', validator]].map(([n, node]) => [n as string, { ...(node as CommonsNode).timings }]))
      },
      ...(storage === undefined ? {} : { storage }),
      ...(agent === undefined ? {} : { agent }),
      ...(inference === undefined ? {} : { inference })
    }
    summary.ok = summary.jobs.filter(j => j.cheater).length === 1 && summary.jobs.every(j => j.outcome === (j.cheater ? 'slashed' : 'finalized')) &&
      summary.disputes.length > 0 && summary.disputes.every(d => d.winner === 'challenger') && model.verified
    return summary
  } finally {
    for (const node of nodes.reverse()) await node.stop().catch(() => {})
    for (const stop of stops) await stop().catch(() => {})
    await devnet.stop()
    await rm(work, { recursive: true, force: true })
  }
}
