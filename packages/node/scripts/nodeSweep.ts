// The fault sweep with whole nodes: real node processes' logic (in one process), real
// libp2p on loopback, real blockstores, anvil and the real engine. Cheating trainers
// (one per lie, `--fault` drawn from the seed: step faults anywhere in the program, init,
// loss-only including the last record's, withheld traces, a model file whose weights are not
// S_T's, or whose header maps names to other weights) face a validator that replays
// every step; honest trainers face a challenger who disputes them anyway (random step,
// op and element; the loss; value requests; record queries). Every lie must end slashed;
// no honest trainer may be.
//
//   node packages/node/scripts/nodeSweep.ts [--lies 50] [--honest 50] [--seed 1] [--json]
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parseEther } from 'viem'
import {
  Challenger, connect, deploy, devnetAccount, queryRecords, readDispute, readJob, registerAndStake, startDevnet, transferTokens, type Clients, type Deployment
} from '@commons/chain'
import { random32 } from '@commons/protocol'
import { compileProgram, readRecipe, readRecords, referenceContext, runStateAt, type Recipe } from '@commons/engine'
import { commitVersion, generateRows, initDataset, rowsToBytes, tokenizeVersion } from '@commons/store'
import { parseFault } from '../src/faults.ts'
import { peerIdBytes, type CommonsNode } from '../src/node.ts'
import { fundedNodes } from '../src/testing/fundedNodes.ts'

const { values } = parseArgs({
  options: {
    lies: { type: 'string', default: '50' },
    honest: { type: 'string', default: '50' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (values.help) {
  console.log('Usage: node packages/node/scripts/nodeSweep.ts [--lies N] [--honest N] [--seed S] [--json]')
  process.exit(0)
}
const LIES = Number(values.lies)
const HONEST = Number(values.honest)
const SEED = Number(values.seed)
const log = (line: string): void => { process.stderr.write(`${line}\n`) }

const root = await mkdtemp(join(tmpdir(), 'commons-node-sweep-'))
const devnet = await startDevnet({ home: join(root, 'chain') })
let bank: Clients
let deployment: Deployment
const { start, nodes, lines } = fundedNodes(() => ({ root, rpcUrl: devnet.rpcUrl, deployment, bank, defaults: { traceWaitMs: 3000 } }))

async function until (check: () => Promise<boolean> | boolean, timeoutMs = 120_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) return false
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return true
}

try {
  bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = { ...await deploy(bank, { disputeBond: parseEther('10'), moveTime: 600n }), rpcUrl: devnet.rpcUrl }
  const requester = await start('requester', ['requester'])
  const validator = await start('validator', ['validator'], { checkSteps: 'all' })
  await registerAndStake(validator.clients, deployment, { peerId: peerIdBytes(validator.peerId), roles: ['validator'], amount: parseEther('1000') })
  await validator.network.connect(requester.network.multiaddrs()[0])
  const source = join(root, 'corpus')
  await mkdir(source, { recursive: true })
  await writeFile(join(source, 'rows.jsonl'), rowsToBytes(generateRows(20_000, 5)))
  await initDataset(requester.store, 'corpus')
  const version = (await commitVersion(requester.store, { name: 'corpus', path: source, message: 'rows' })).cid.toString()
  const tiny = await readRecipe(fileURLToPath(new URL('../../../recipes/tiny.json', import.meta.url)))
  const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 4, checkpointInterval: 2 }
  const { tokens } = await tokenizeVersion(requester.store, version, recipe.tokenizer)
  const engine = referenceContext()
  const program = compileProgram(engine, recipe)
  const job = { datasetCid: version, reward: parseEther('100'), jobStake: parseEther('100'), recipe }

  /** Dials `to` from `from`, again after a handshake that timed out (a loaded machine). */
  const connectRetrying = async (from: CommonsNode, to: CommonsNode): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await from.network.connect(to.network.multiaddrs()[0])
      } catch (error) {
        if (attempt === 3) throw error
        log(`dial failed (${(error as Error).message}); again`)
      }
    }
  }

  /** A trainer node with `fault` (or honest) takes the next job; resolves once it submitted. */
  const trainerFor = async (name: string, fault?: string, seed = SEED): Promise<{ trainer: CommonsNode, jobId: bigint }> => {
    const trainer = await start(name, ['trainer'], fault === undefined ? {} : { fault: parseFault(fault, seed) })
    await registerAndStake(trainer.clients, deployment, { peerId: peerIdBytes(trainer.peerId), roles: ['trainer'], amount: parseEther('1000') })
    await connectRetrying(trainer, requester)
    await connectRetrying(validator, trainer)
    const jobId = await requester.postJob(job)
    return { trainer, jobId }
  }

  const lies = { total: 0, slashed: 0, missed: [] as string[], byKind: {} as Record<string, number> }
  const kinds = ['step', 'init', 'loss', 'withhold', 'model', 'header'] as const
  for (let i = 0; i < LIES; i++) {
    const kind = kinds[i % kinds.length]
    const fault = kind === 'step' ? `step=${random32(SEED, 1, i) % recipe.steps}` // op and element drawn where the fault changes the state
      : kind === 'init' ? 'init'
        : kind === 'loss' ? `loss,step=${random32(SEED, 2, i) % (recipe.steps + 1)}`
          : kind === 'withhold' ? `step=${random32(SEED, 3, i) % recipe.steps},withhold`
            : kind === 'model' ? 'model' // a model file with one weight that is not S_T's (slot and element drawn)
              : 'header' // a model file whose header swaps two names over S_T's weights (slot drawn)
    const { trainer, jobId } = await trainerFor(`liar-${i}`, fault, SEED * 1000 + i)
    const slashed = await until(async () => (await readJob(bank, deployment, jobId)).statusName === 'slashed')
    lies.total++
    lies.byKind[kind] = (lies.byKind[kind] ?? 0) + 1
    if (slashed) lies.slashed++
    else lies.missed.push(`${i} --fault ${fault}: job ${(await readJob(bank, deployment, jobId)).statusName}`)
    log(`lie ${i + 1}/${LIES} --fault ${fault}: ${slashed ? 'slashed' : 'MISSED'}`)
    await trainer.stop()
  }

  // A challenger who disputes honest runs anyway, on its own key.
  const bogus = await connect(devnet.rpcUrl, devnetAccount(7))
  await transferTokens(bank, deployment, bogus.account.address, parseEther('100000'))
  const honest = { total: 0, slashed: [] as string[], byKind: {} as Record<string, number> }
  const bogusKinds = ['pinpoint', 'loss', 'requests', 'query'] as const
  for (let i = 0; i < HONEST; i++) {
    const kind = bogusKinds[i % bogusKinds.length]
    const draw = (purpose: number): number => random32(SEED, 10 + purpose, i)
    const { trainer, jobId } = await trainerFor(`honest-${i}`)
    await until(async () => (await readJob(bank, deployment, jobId)).statusName === 'submitted')
    const dir = join(root, `honest-${i}`, 'runs', `job-${jobId}`)
    const records = await readRecords(dir)
    const challenger = new Challenger(bogus, deployment, { engine, jobId, recipe, tokens, program, records })
    let id: bigint
    if (kind === 'query') {
      id = await queryRecords(bogus, deployment, jobId, [draw(1) % (recipe.steps + 1)])
    } else {
      const step = draw(1) % (recipe.steps + 1)
      id = (await challenger.open(step, await runStateAt(engine, dir, tokens, step), { force: true })).id
      await until(async () => (await readDispute(bogus, deployment, id)).phaseName === 'await-pinpoint')
      if (kind === 'loss') await challenger.pinpointLoss(id)
      else {
        if (kind === 'requests') {
          const op = draw(2) % program.step.length
          await challenger.requestValues(id, op, 0, 1)
          await until(async () => (await readDispute(bogus, deployment, id)).phaseName === 'await-pinpoint')
        }
        // Over step T (an evaluation) only the ops up to the loss op have inputs to prove.
        const ops = step === recipe.steps ? program.header.lossOp + 1 : program.step.length
        const op = draw(3) % ops
        const size = program.step[op].dims.reduce((a, b) => a * b, 1)
        await challenger.pinpoint(id, async () => { throw new Error('unused') }, { op, element: draw(4) % size })
      }
    }
    const resolved = await until(async () => (await readDispute(bogus, deployment, id)).resolved)
    const d = await readDispute(bogus, deployment, id)
    const status = (await readJob(bank, deployment, jobId)).statusName
    honest.total++
    honest.byKind[kind] = (honest.byKind[kind] ?? 0) + 1
    if (!resolved || d.winner !== 'trainer' || status === 'slashed') honest.slashed.push(`${i} ${kind}: dispute ${d.reasonName}, job ${status}`)
    log(`honest ${i + 1}/${HONEST} bogus ${kind}: ${d.reasonName}, job ${status}`)
    await trainer.stop()
  }

  const report = { recipe: { steps: recipe.steps, ops: program.step.length }, lies, honest }
  if (values.json) console.log(JSON.stringify(report, null, 2))
  else {
    console.log(`lies: ${lies.total} (${Object.entries(lies.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}); slashed ${lies.slashed}, missed ${lies.missed.length}`)
    console.log(`honest trainers facing a bogus dispute: ${honest.total} (${Object.entries(honest.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}); slashed ${honest.slashed.length}`)
  }
  process.exitCode = lies.missed.length === 0 && honest.slashed.length === 0 ? 0 : 1
  if (process.exitCode !== 0) log(lines.slice(-60).join('\n'))
} finally {
  for (const node of nodes) await node.stop().catch(() => {})
  await devnet.stop()
  await rm(root, { recursive: true, force: true })
}
