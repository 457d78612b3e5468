// The fault sweep: random lies against the real engine and the real contracts on anvil,
// each played through the dispute game by the same Challenger and Defender the nodes
// use, and honest runs facing bogus disputes. Every lie that changes what the trainer
// committed must be slashed; no honest trainer may be.
//
//   node packages/chain/scripts/faultSweep.ts [--faults 50] [--honest 50] [--seed 1] [--json]
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { decodeFunctionData, pad, parseEther, toHex } from 'viem'
import { random32 } from '@commons/protocol'
import {
  compileProgram, faultChangesState, initialState, referenceContext, replay, runStateAt, tokensRootOf, train, trainStep, type Recipe,
  type RunFault, type StepRecord
} from '@commons/engine'
import {
  modelHeaderOf,
  advanceTime, Challenger, claimJob, connect, Defender, deploy, devnetAccount, disputeGameAbi, eventsInRanges, INIT_STEP, postJob, queryRecords, readDispute,
  readJob, registerAndStake, startDevnet, submitResult, transferTokens, type Clients, type Deployment
} from '../src/index.ts'

const { values } = parseArgs({
  options: {
    faults: { type: 'string', default: '50' },
    honest: { type: 'string', default: '50' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (values.help) {
  console.log('Usage: node packages/chain/scripts/faultSweep.ts [--faults N] [--honest N] [--seed S] [--json]')
  process.exit(0)
}
const FAULTS = Number(values.faults)
const HONEST = Number(values.honest)
const SEED = Number(values.seed)
const log = (line: string): void => { process.stderr.write(`${line}\n`) }

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const tokens = Int32Array.from(await readFile(join(repo, 'packages/engine/fixtures/corpus.txt')))
const tiny = JSON.parse(await readFile(join(repo, 'recipes/tiny.json'), 'utf8')) as Recipe
const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 5, checkpointInterval: 2 }
const engine = referenceContext()
const program = compileProgram(engine, recipe)
const MOVE_TIME = 600

const home = await mkdtemp(join(tmpdir(), 'commons-sweep-'))
const devnet = await startDevnet({ home })
const as: Record<string, Clients> = {}
let deployment: Deployment
try {
  for (const [i, name] of ['deployer', 'requester', 'trainer', 'challenger'].entries()) as[name] = await connect(devnet.rpcUrl, devnetAccount(i))
  deployment = await deploy(as.deployer, { disputeBond: parseEther('50'), moveTime: BigInt(MOVE_TIME) })
  for (const name of ['requester', 'trainer', 'challenger']) await transferTokens(as.deployer, deployment, as[name].account.address, parseEther('1000000'))
  await registerAndStake(as.trainer, deployment, { peerId: toHex('sweep-trainer'), roles: ['trainer'], amount: parseEther('100000') })
  await registerAndStake(as.challenger, deployment, { peerId: toHex('sweep-validator'), roles: ['validator'], amount: parseEther('100') })
  const report = await sweep()
  if (values.json) console.log(JSON.stringify(report, null, 2))
  else {
    console.log(`lies: ${report.lies.total} (${Object.entries(report.lies.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}); changed nothing committed: ${report.lies.changedNothing}`)
    console.log(`  caught and slashed: ${report.lies.slashed}, missed: ${report.lies.missed.length}`)
    console.log(`honest runs facing a bogus dispute: ${report.honest.total} (${Object.entries(report.honest.byKind).map(([k, n]) => `${k} ${n}`).join(', ')})`)
    console.log(`  honest trainer slashed: ${report.honest.slashed.length}`)
    console.log(`largest move of each kind (gas): ${Object.entries(report.maxGas).map(([m, g]) => `${m} ${g}`).join(', ')}`)
  }
  process.exitCode = report.lies.missed.length === 0 && report.honest.slashed.length === 0 ? 0 : 1
} finally {
  await devnet.stop()
  await rm(home, { recursive: true, force: true })
}

async function sweep () {
  const lies = { total: 0, slashed: 0, changedNothing: 0, missed: [] as string[], byKind: {} as Record<string, number> }
  const honest = { total: 0, slashed: [] as string[], byKind: {} as Record<string, number> }
  const maxGas: Record<string, number> = {}
  const gasOf = async (id: bigint): Promise<void> => {
    // Every event of the game names the dispute id as its first indexed topic.
    const logs = []
    const head = await as.challenger.public.getBlockNumber()
    for await (const window of eventsInRanges(as.challenger, { address: deployment.contracts.disputeGame, abi: disputeGameAbi, fromBlock: BigInt(deployment.block), toBlock: head })) logs.push(...window.events)
    const hashes = new Set(logs.filter(l => l.topics[1] === pad(toHex(id))).flatMap(l => l.transactionHash === null ? [] : [l.transactionHash]))
    for (const hash of hashes) {
      const [receipt, tx] = await Promise.all([as.challenger.public.getTransactionReceipt({ hash }), as.challenger.public.getTransaction({ hash })])
      if (tx.to?.toLowerCase() !== deployment.contracts.disputeGame.toLowerCase()) continue // a market event of a job with the same number
      const move = decodeFunctionData({ abi: disputeGameAbi, data: tx.input }).functionName
      maxGas[move] = Math.max(maxGas[move] ?? 0, Number(receipt.gasUsed))
    }
  }
  const lieKinds = ['step', 'init', 'loss', 'withheld-trace', 'withheld-values', 'silent-on-request'] as const
  for (let i = 0; i < FAULTS; i++) {
    const kind = lieKinds[i % lieKinds.length]
    // A corruption that changes nothing committed (a masked attention score, say) is
    // no lie: count it, and draw again.
    let fault: RunFault | null = null
    for (let k = 0; fault === null; k++) {
      fault = drawLie(kind, purpose => random32(SEED, 100 + purpose, i * 1000 + k))
      if (fault === null) lies.changedNothing++
    }
    lies.total++
    lies.byKind[kind] = (lies.byKind[kind] ?? 0) + 1
    const run = await submittedRun(fault, `lie-${i}`)
    const id = await playLie(kind, run, fault)
    await gasOf(id)
    const status = (await readJob(as.requester, deployment, run.jobId)).statusName
    if (status === 'slashed') lies.slashed++
    else lies.missed.push(`${i} ${kind} ${JSON.stringify(fault)}: job ${status}`)
    log(`lie ${i + 1}/${FAULTS} ${kind}: ${status}`)
  }
  const bogusKinds = ['pinpoint', 'loss', 'requests', 'init', 'query'] as const
  for (let i = 0; i < HONEST; i++) {
    const kind = bogusKinds[i % bogusKinds.length]
    const draw = (purpose: number): number => random32(SEED, 200 + purpose, i)
    honest.total++
    honest.byKind[kind] = (honest.byKind[kind] ?? 0) + 1
    const run = await submittedRun(undefined, `honest-${i}`)
    const id = await playBogus(kind, run, draw)
    await gasOf(id)
    const d = await readDispute(as.challenger, deployment, id)
    const status = (await readJob(as.requester, deployment, run.jobId)).statusName
    if (status === 'slashed' || d.winner !== 'trainer') honest.slashed.push(`${i} ${kind}: job ${status}, dispute ${d.reasonName}`)
    log(`honest ${i + 1}/${HONEST} bogus ${kind}: ${d.reasonName}, job ${status}`)
  }
  return { recipe: { name: recipe.name, steps: recipe.steps, ops: program.step.length }, lies, honest, maxGas }
}

/** A lie of the given kind, drawn; null when the drawn corruption changes nothing committed. */
function drawLie (kind: string, draw: (purpose: number) => number): RunFault | null {
  if (kind === 'init') return { kind: 'init', slot: draw(1) % (3 * program.paramSlots), element: draw(2) }
  if (kind === 'loss') return { kind: 'loss', step: draw(1) % (recipe.steps + 1) } // the last record's evaluation loss too
  const fault = { kind: 'step' as const, step: draw(1) % recipe.steps, op: draw(2) % program.step.length, element: draw(3) }
  const state = initialState(recipe)
  while (state.step < fault.step) trainStep(engine, recipe, tokens, state)
  return faultChangesState(engine, recipe, tokens, state, fault) ? fault : null
}

interface SweepRun { jobId: bigint, dir: string, defender: Defender, challenger: Challenger }

async function submittedRun (fault: RunFault | undefined, name: string): Promise<SweepRun> {
  const { jobId } = await postJob(as.requester, deployment, {
    datasetCid: 'bafyreigezfizmnk4llquwjxtfcozdirvwcx52t7yojbw3aomniojb2d37i', tokensRoot: tokensRootOf(tokens), recipeCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
    programHash: program.hash, modelHeader: modelHeaderOf(recipe, tokensRootOf(tokens)), seed: BigInt(recipe.seed), steps: recipe.steps, reward: parseEther('100'), jobStake: parseEther('200'), trainingTime: 3600n, challengeWindow: 3600n
  })
  await claimJob(as.trainer, deployment, jobId)
  const dir = join(home, name)
  const result = await train(engine, { recipe, tokens, data: { source: 'corpus' }, out: dir, fault })
  await submitResult(as.trainer, deployment, { jobId, modelCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', transcriptRoot: result.transcriptRoot, steps: recipe.steps })
  const defender = new Defender(as.trainer, deployment, { engine, recipe, tokens, fault, stateAt: async step => runStateAt(engine, dir, tokens, step, fault) })
  const challenger = new Challenger(as.challenger, deployment, { engine, jobId, recipe, tokens, program, records: result.records as StepRecord[] })
  return { jobId, dir, defender, challenger }
}

/** The validator finds the lie as a node would (replay, or S_0) and plays the dispute through. */
async function playLie (kind: string, run: SweepRun, fault: RunFault): Promise<bigint> {
  const { challenger, defender, dir } = run
  let step = INIT_STEP
  if (challenger.check(INIT_STEP).agrees) {
    const check = await replay(engine, dir, tokens)
    if (check.firstMismatch === null) throw new Error(`the replay found no lie for ${JSON.stringify(fault)}`)
    step = check.firstMismatch.disputeStep
  }
  const stateT = step === INIT_STEP ? undefined : await runStateAt(engine, dir, tokens, step)
  const { id } = await challenger.open(step, stateT)
  if (kind === 'withheld-trace') {
    await advanceTime(devnet.rpcUrl, MOVE_TIME + 1)
    await challenger.timeout(id)
    return id
  }
  await defender.postOpTrace(id)
  if (await challenger.lossOnly(id)) await challenger.pinpointLoss(id)
  else if (kind === 'withheld-values' || kind === 'silent-on-request') {
    let walk = await challenger.walkValues(id)
    if (kind === 'silent-on-request') {
      await advanceTime(devnet.rpcUrl, MOVE_TIME + 1)
      await challenger.timeout(id)
      return id
    }
    while (!('element' in walk.next)) {
      await defender.provideValues(id)
      walk = await challenger.walkValues(id)
    }
    await challenger.pinpoint(id, async () => { throw new Error('withheld') }, { op: walk.op, element: walk.next.element })
  } else {
    await challenger.pinpoint(id, async op => defender.output(step, op))
  }
  await defender.reveal(id)
  return id
}

/** A challenger who disputes an honest run anyway; the honest trainer answers every move. */
async function playBogus (kind: string, run: SweepRun, draw: (purpose: number) => number): Promise<bigint> {
  const { challenger, defender, dir } = run
  if (kind === 'query') {
    const records = JSON.parse(await readFile(join(dir, 'transcript.json'), 'utf8')).records as StepRecord[]
    const id = await queryRecords(as.challenger, deployment, run.jobId, [draw(1) % (recipe.steps + 1), draw(2) % (recipe.steps + 1)])
    await defender.answerQuery(id, records)
    return id
  }
  const step = kind === 'init' ? INIT_STEP : draw(1) % recipe.steps
  const { id } = await challenger.open(step, step === INIT_STEP ? undefined : await runStateAt(engine, dir, tokens, step), { force: true })
  await defender.postOpTrace(id)
  const ops = step === INIT_STEP ? program.init : program.step
  if (kind === 'loss') await challenger.pinpointLoss(id)
  else {
    if (kind === 'requests') {
      for (let r = 0; r < 3; r++) {
        const op = draw(10 + r) % ops.length
        const leaves = Math.ceil(ops[op].dims.reduce((a, b) => a * b, 1) / 8)
        await challenger.requestValues(id, op, draw(20 + r) % leaves, 1 + draw(30 + r) % 64)
        await defender.provideValues(id)
      }
    }
    const op = draw(2) % ops.length
    const size = ops[op].dims.reduce((a, b) => a * b, 1)
    await challenger.pinpoint(id, async o => defender.output(step, o), { op, element: draw(3) % size })
  }
  await defender.reveal(id)
  return id
}
