import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeFunctionData, parseEther, toHex, zeroAddress, type Abi, type Hex } from 'viem'
import { nodeProof, random32, recordHashes, stateRoot, wordOf } from '@commons/protocol'
import {
  compileProgram, faultChangesState, initialState, referenceContext, replay, runStateAt, stateSlots, Tensor, tokensRootOf, train, trainStep, type Recipe,
  type RunFault, type StepRecord
} from '@commons/engine'
import {
  modelHeaderOf,
  advanceTime, Challenger, checkPosted, claimJob, connect, Defender, deploy, deployOne, devnetAccount, disputeGameAbi, findDisputedStep, waitForReceipt, INIT_STEP, playDispute, postedRecords, postJob, queryRecords, readDispute,
  readJob, registerAndStake, startDevnet, submitResult, tokenBalance, transferTokens, type Clients, type Deployment, type Devnet
} from './index.ts'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const tokens = Int32Array.from(await readFile(join(repo, 'packages/engine/fixtures/corpus.txt')))
const tiny = JSON.parse(await readFile(join(repo, 'recipes/tiny.json'), 'utf8')) as Recipe
/** The tiny transformer cut to one layer, two sequences and five steps: a dispute in seconds. */
const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 5, checkpointInterval: 2 }
const engine = referenceContext()
const program = compileProgram(engine, recipe)
const MOVE_TIME = 600n
const JOB_STAKE = parseEther('200')
const BOND = parseEther('50')
const MODEL = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const DATASET = 'bafyreigezfizmnk4llquwjxtfcozdirvwcx52t7yojbw3aomniojb2d37i'

let home: string
let devnet: Devnet
let deployment: Deployment
const as: Record<string, Clients> = {}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-dispute-'))
  devnet = await startDevnet({ home })
  for (const [i, name] of ['deployer', 'requester', 'trainer', 'challenger'].entries()) as[name] = await connect(devnet.rpcUrl, devnetAccount(i))
  deployment = await deploy(as.deployer, { disputeBond: BOND, moveTime: MOVE_TIME })
  for (const name of ['requester', 'trainer', 'challenger']) await transferTokens(as.deployer, deployment, as[name].account.address, parseEther('100000'))
  await registerAndStake(as.trainer, deployment, { peerId: toHex('12D3KooWtrainer'), roles: ['trainer'], amount: parseEther('5000') })
  await registerAndStake(as.challenger, deployment, { peerId: toHex('12D3KooWvalidator'), roles: ['validator'], amount: parseEther('100') })
})

after(async () => {
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

let runs = 0

const pick = ({ agrees, lossAgrees }: { agrees: boolean, lossAgrees: boolean }): { agrees: boolean, lossAgrees: boolean } => ({ agrees, lossAgrees })

/** A job posted, claimed, trained (with the fault, if any) and submitted. */
async function submittedRun (fault?: RunFault) {
  const { jobId } = await postJob(as.requester, deployment, {
    datasetCid: DATASET, tokensRoot: tokensRootOf(tokens), recipeCid: MODEL, programHash: program.hash, modelHeader: modelHeaderOf(recipe, tokensRootOf(tokens)), seed: BigInt(recipe.seed),
    steps: recipe.steps, reward: parseEther('1000'), jobStake: JOB_STAKE, trainingTime: 3600n, challengeWindow: 3600n
  })
  await claimJob(as.trainer, deployment, jobId)
  const dir = join(home, `run-${runs++}`)
  const result = await train(engine, { recipe, tokens, data: { source: 'corpus' }, out: dir, fault })
  await submitResult(as.trainer, deployment, { jobId, modelCid: MODEL, transcriptRoot: result.transcriptRoot, steps: recipe.steps })
  const defender = new Defender(as.trainer, deployment, { engine, recipe, tokens, fault, stateAt: async step => runStateAt(engine, dir, tokens, step, fault) })
  const challenger = new Challenger(as.challenger, deployment, { engine, jobId, recipe, tokens, program, records: result.records as StepRecord[] })
  return { jobId, dir, defender, challenger }
}

/** A fault drawn at random that does change S_{t+1}. */
function drawFault (seed: number): RunFault & { kind: 'step' } {
  for (let k = 0; ; k++) {
    const step = random32(seed, 1, k) % recipe.steps
    const fault = { op: random32(seed, 2, k) % program.step.length, element: random32(seed, 3, k) }
    const state = initialState(recipe)
    while (state.step < step) trainStep(engine, recipe, tokens, state)
    if (faultChangesState(engine, recipe, tokens, state, fault)) return { kind: 'step', step, ...fault }
  }
}

describe('pinpoint disputes on a real anvil with the real engine', () => {
  for (const seed of [1, 2, 3]) {
    it(`catches and slashes a trainer that corrupts one element of one op (draw ${seed})`, async () => {
      const fault = drawFault(seed)
      const { jobId, dir, defender, challenger } = await submittedRun(fault)
      // The validator replays the run from the trainer's checkpoints and finds the step.
      const check = await replay(engine, dir, tokens)
      assert.ok(check.firstMismatch !== null)
      const step = check.firstMismatch.step - 1
      assert.equal(step, fault.step)
      const before = await tokenBalance(as.challenger, deployment, as.challenger.account.address)
      const outcome = await playDispute(challenger, defender, step, await runStateAt(engine, dir, tokens, step))
      assert.equal(outcome.winner, 'challenger')
      assert.equal(outcome.reason, 'mismatch')
      assert.equal(outcome.moves.length, 3)
      assert.equal(outcome.op, fault.op, 'the first op that departs is the corrupted one')
      for (const move of [outcome.open, ...outcome.moves]) assert.ok(move.gas <= 5_000_000n, `${move.name} used ${move.gas} gas`)
      const job = await readJob(as.requester, deployment, jobId)
      assert.equal(job.statusName, 'slashed')
      // Bond back plus half of the slashed job stake.
      assert.equal(await tokenBalance(as.challenger, deployment, as.challenger.account.address), before + JOB_STAKE / 2n)
    })
  }

  it('forfeits the bond of a challenger who disputes a correct transcript', async () => {
    const { jobId, dir, defender, challenger } = await submittedRun()
    const before = await tokenBalance(as.challenger, deployment, as.challenger.account.address)
    const { id } = await challenger.open(2, await runStateAt(engine, dir, tokens, 2), { force: true })
    await defender.postOpTrace(id)
    await challenger.pinpoint(id, async op => defender.output(2, op), { op: 40, element: 3 })
    await defender.reveal(id)
    const d = await readDispute(as.challenger, deployment, id)
    assert.equal(d.winner, 'trainer')
    assert.equal(d.reasonName, 'match')
    assert.equal(await tokenBalance(as.challenger, deployment, as.challenger.account.address), before - BOND)
    assert.equal((await readJob(as.requester, deployment, jobId)).statusName, 'submitted', 'the job goes on to finalisation')
  })

  it('slashes a trainer that does not answer, by timeout', async () => {
    const fault = drawFault(4)
    const { jobId, dir, challenger } = await submittedRun(fault)
    const { id } = await challenger.open(fault.step, await runStateAt(engine, dir, tokens, fault.step))
    await assert.rejects(challenger.timeout(id), /DeadlineNotPassed/)
    await advanceTime(devnet.rpcUrl, Number(MOVE_TIME) + 1)
    await challenger.timeout(id)
    const d = await readDispute(as.challenger, deployment, id)
    assert.equal(d.winner, 'challenger')
    assert.equal(d.reasonName, 'trace-timeout')
    assert.equal((await readJob(as.requester, deployment, jobId)).statusName, 'slashed')
  })

  it('catches a corrupt initial state', async () => {
    const fault: RunFault = { kind: 'init', slot: 2, element: 77 }
    const { jobId, defender, challenger } = await submittedRun(fault)
    assert.equal(challenger.check(INIT_STEP).agrees, false)
    const outcome = await playDispute(challenger, defender, INIT_STEP)
    assert.equal(outcome.winner, 'challenger')
    assert.equal(outcome.op, 2)
    assert.equal(outcome.element, 77)
    assert.equal((await readJob(as.requester, deployment, jobId)).statusName, 'slashed')
  })

  it('forces the values of a trainer that publishes nothing out on-chain, and still pinpoints its lie', async () => {
    const fault = drawFault(5)
    const { jobId, dir, defender, challenger } = await submittedRun(fault)
    const { id } = await challenger.open(fault.step, await runStateAt(engine, dir, tokens, fault.step))
    await defender.postOpTrace(id)
    let walk = await challenger.walkValues(id)
    let requests = 0
    while (!('element' in walk.next)) {
      requests++
      const provided = await defender.provideValues(id) // the trainer's node answers on-chain, or loses
      assert.ok(provided.gas <= 5_000_000n, `provideValues used ${provided.gas} gas`)
      walk = await challenger.walkValues(id)
    }
    assert.ok(requests >= 1)
    assert.equal(walk.op, fault.op, 'the first op that departs is the corrupted one')
    await challenger.pinpoint(id, async () => { throw new Error('no off-chain trace') }, { op: walk.op, element: walk.next.element })
    await defender.reveal(id)
    const d = await readDispute(as.challenger, deployment, id)
    assert.equal(d.reasonName, 'mismatch')
    assert.equal((await readJob(as.requester, deployment, jobId)).statusName, 'slashed')
  })

  it('walks down on-chain a trainer whose published output is the honest one cut short (a root of another length names no element to pinpoint)', async () => {
    const fault = drawFault(6)
    const { jobId, dir, challenger } = await submittedRun(fault)
    // The trainer's trace: op 0's output one element short, its values honest (posted and published alike).
    class CuttingDefender extends Defender {
      override async trace (step: number): Promise<Tensor[]> {
        const [first, ...rest] = await super.trace(step)
        return [new Tensor([first.size - 1], first.data.slice(0, first.size - 1)), ...rest]
      }
    }
    const trainer = new CuttingDefender(as.trainer, deployment, { engine, recipe, tokens, fault, stateAt: async step => runStateAt(engine, dir, tokens, step, fault) })
    const { id } = await challenger.open(fault.step, await runStateAt(engine, dir, tokens, fault.step))
    await trainer.postOpTrace(id)
    await assert.rejects(challenger.departure(id, async op => trainer.output(fault.step, op)), /is not of the op's shape and type/)
    // The trainer answers what it can; what it cannot reveal it loses by timeout.
    const orTimeout = async (move: () => Promise<unknown>): Promise<boolean> => {
      try { await move(); return true } catch {
        await advanceTime(devnet.rpcUrl, Number(MOVE_TIME) + 1)
        await challenger.timeout(id)
        return false
      }
    }
    let walk = await challenger.walkValues(id)
    let answering = true
    while (answering && !('element' in walk.next)) {
      answering = await orTimeout(async () => trainer.provideValues(id))
      if (answering) walk = await challenger.walkValues(id)
    }
    if (answering && 'element' in walk.next) {
      assert.equal(walk.op, 0, 'the op cut short is the first that departs')
      await challenger.pinpoint(id, async () => { throw new Error('no usable trace') }, { op: walk.op, element: walk.next.element })
      await orTimeout(async () => trainer.reveal(id))
    }
    const d = await readDispute(as.challenger, deployment, id)
    assert.equal(d.winner, 'challenger', `won by ${d.reasonName}`)
    assert.equal((await readJob(as.requester, deployment, jobId)).statusName, 'slashed')
  })

  it('slashes a trainer that withholds requested values, by timeout', async () => {
    const fault = drawFault(6)
    const { jobId, dir, defender, challenger } = await submittedRun(fault)
    const { id } = await challenger.open(fault.step, await runStateAt(engine, dir, tokens, fault.step))
    await defender.postOpTrace(id)
    await challenger.walkValues(id)
    assert.equal((await readDispute(as.challenger, deployment, id)).phaseName, 'await-values')
    await advanceTime(devnet.rpcUrl, Number(MOVE_TIME) + 1)
    await challenger.timeout(id)
    const d = await readDispute(as.challenger, deployment, id)
    assert.equal(d.winner, 'challenger')
    assert.equal(d.reasonName, 'values-timeout')
    assert.equal((await readJob(as.requester, deployment, jobId)).statusName, 'slashed')
  })

  it('forces transcript records out with a query, and pays the answering trainer the query bond', async () => {
    const { jobId, dir, defender } = await submittedRun()
    const records = JSON.parse(await readFile(join(dir, 'transcript.json'), 'utf8')).records as StepRecord[]
    const id = await queryRecords(as.challenger, deployment, jobId, [0, 3, recipe.steps])
    const before = await tokenBalance(as.trainer, deployment, as.trainer.account.address)
    await defender.answerQuery(id, records)
    const posted = await postedRecords(as.challenger, deployment, id)
    assert.deepEqual(posted?.map(r => [r.index, r.state]), [[0, records[0].state], [3, records[3].state], [recipe.steps, records[recipe.steps].state]])
    const d = await readDispute(as.challenger, deployment, id)
    assert.equal(d.reasonName, 'answered')
    assert.equal(d.winner, 'trainer')
    assert.ok(await tokenBalance(as.trainer, deployment, as.trainer.account.address) > before, 'the bond pays the trainer')
  })

  it('slashes a trainer whose states are right but whose transcript lies about a loss', async () => {
    const fault: RunFault = { kind: 'loss', step: 3 }
    const { jobId, dir, defender, challenger } = await submittedRun(fault)
    const check = challenger.check(3, await runStateAt(engine, dir, tokens, 3))
    assert.equal(check.agrees, true, 'the states are honest')
    assert.equal(check.lossAgrees, false, 'the recorded loss is not')
    const outcome = await playDispute(challenger, defender, 3, await runStateAt(engine, dir, tokens, 3))
    assert.equal(outcome.winner, 'challenger')
    assert.equal(outcome.reason, 'mismatch')
    assert.equal(outcome.op, program.header.lossOp)
    assert.equal((await readJob(as.requester, deployment, jobId)).statusName, 'slashed')
  })

  it('slashes a lie about a loss that the trainer\'s trace repeats: pinpointed at the loss op\'s output, not by pinpointLoss', async () => {
    // The loss op's output corrupted in the run itself: every state right, the recorded loss
    // and the trace's loss op output both the lie (a pinpointLoss would find them equal).
    const fault: RunFault = { kind: 'step', step: 3, op: program.header.lossOp, element: 0 }
    const { jobId, dir, defender, challenger } = await submittedRun(fault)
    const check = challenger.check(3, await runStateAt(engine, dir, tokens, 3))
    assert.deepEqual([check.agrees, check.lossAgrees], [true, false], 'the states are honest, the recorded loss is not')
    const outcome = await playDispute(challenger, defender, 3, await runStateAt(engine, dir, tokens, 3))
    assert.equal(outcome.winner, 'challenger')
    assert.equal(outcome.reason, 'mismatch')
    assert.equal(outcome.op, program.header.lossOp)
    assert.equal((await readJob(as.requester, deployment, jobId)).statusName, 'slashed')
  })

  it('reads a NaN loss the trainer posted with another payload as a lie (NaN is committed canonical), where the replay\'s loss is NaN too', () => {
    // A state whose loss is NaN: the first parameter all NaN.
    const state = initialState(recipe)
    state.params[0].f32.fill(NaN)
    const before = toHex(stateRoot(stateSlots(state), 0))
    const next = initialState(recipe)
    next.params[0].f32.fill(NaN)
    trainStep(engine, recipe, tokens, next)
    const records: StepRecord[] = [{ step: 0, state: before, loss: NaN }, { step: 1, state: toHex(stateRoot(stateSlots(next), 1)), loss: NaN }]
    const claimOf = (lossBits: number): Challenger => new Challenger(as.challenger, deployment, {
      engine, jobId: 0n, recipe, tokens, program, records, proofs: new Map([[0, { lossBits, proof: [] }], [1, { lossBits, proof: [] }]])
    })
    assert.deepEqual(pick(claimOf(0x7fc00000).check(0, state)), { agrees: true, lossAgrees: true }, 'the canonical NaN agrees')
    assert.deepEqual(pick(claimOf(0x7fc00001).check(0, state)), { agrees: true, lossAgrees: false }, 'another payload does not')
  })

  it('slashes a lie about the last record\'s loss, an evaluation of S_T disputed over step T', async () => {
    const fault: RunFault = { kind: 'loss', step: recipe.steps }
    const { jobId, dir, defender, challenger } = await submittedRun(fault)
    const check = await replay(engine, dir, tokens)
    assert.deepEqual([check.firstMismatch?.kind, check.firstMismatch?.disputeStep], ['loss', recipe.steps])
    const outcome = await playDispute(challenger, defender, recipe.steps, await runStateAt(engine, dir, tokens, recipe.steps))
    assert.equal(outcome.winner, 'challenger')
    assert.equal(outcome.reason, 'mismatch')
    assert.equal(outcome.op, program.header.lossOp)
    assert.equal((await readJob(as.requester, deployment, jobId)).statusName, 'slashed')
  })

  it('an honest last loss wins its evaluation dispute', async () => {
    const { jobId, dir, defender, challenger } = await submittedRun()
    const { id } = await challenger.open(recipe.steps, await runStateAt(engine, dir, tokens, recipe.steps), { force: true })
    await defender.postOpTrace(id)
    await challenger.pinpointLoss(id)
    await defender.reveal(id)
    const d = await readDispute(as.challenger, deployment, id)
    assert.equal(d.reasonName, 'match')
    assert.equal((await readJob(as.requester, deployment, jobId)).statusName, 'submitted')
  })

  it('slashes a lie behind a run the trainer does not serve: its records forced out by queries, the step found against a re-training', async () => {
    const fault = drawFault(5)
    const { jobId, dir, defender } = await submittedRun(fault)
    const lying = JSON.parse(await readFile(join(dir, 'transcript.json'), 'utf8')).records as StepRecord[]
    // The challenger has no run: it trains the job itself from S_0, the honest transcript.
    const own = join(home, `own-${runs++}`)
    const honest = (await train(engine, { recipe, tokens, data: { source: 'corpus' }, out: own })).records as StepRecord[]
    const found = await findDisputedStep(honest, async indices => {
      const id = await queryRecords(as.challenger, deployment, jobId, indices)
      await defender.answerQuery(id, lying)
      return await postedRecords(as.challenger, deployment, id) ?? []
    })
    assert.equal(found.step, fault.step)
    // The records known (a sparse transcript), with the proofs the trainer posted.
    const bits = new Uint32Array(1)
    const records: StepRecord[] = []
    for (const [i, r] of found.records) records[i] = { step: i, state: r.state, loss: (bits[0] = r.lossBits, new Float32Array(bits.buffer)[0]) }
    const proofs = new Map([...found.records].map(([i, r]) => [i, { lossBits: r.lossBits, proof: r.proof }]))
    const challenger = new Challenger(as.challenger, deployment, { engine, jobId, recipe, tokens, program, records, proofs })
    const outcome = await playDispute(challenger, defender, found.step, await runStateAt(engine, own, tokens, found.step))
    assert.equal(outcome.winner, 'challenger')
    assert.equal(outcome.op, fault.op)
    assert.equal((await readJob(as.requester, deployment, jobId)).statusName, 'slashed')
  })

  it('reads the records of a trainer that answers from an EIP-7702 account (no postRecords calldata): the proofs are in the log', async () => {
    const { jobId, dir } = await submittedRun()
    const records = JSON.parse(await readFile(join(dir, 'transcript.json'), 'utf8')).records as StepRecord[]
    const indices = [3, 0]
    const id = await queryRecords(as.challenger, deployment, jobId, indices)
    // The trainer's account runs a relay's code (as a smart account would): its transaction
    // goes to itself, and the relay's call to the game is what posts the records.
    const artifact = JSON.parse(await readFile(join(repo, 'contracts', 'out', 'CallRelay.sol', 'CallRelay.json'), 'utf8')) as { abi: Abi, bytecode: { object: Hex } }
    const relay = (await deployOne(as.trainer, artifact.abi, artifact.bytecode.object, [])).address
    const delegate = async (contractAddress: Hex): Promise<void> => {
      const authorization = await as.trainer.wallet.signAuthorization({ account: as.trainer.account, contractAddress, executor: 'self' })
      // Sent to another account: a call to its own account would run the relay with no calldata.
      const hash = await as.trainer.wallet.sendTransaction({ to: as.challenger.account.address, authorizationList: [authorization] })
      assert.equal((await waitForReceipt(as.trainer, hash)).status, 'success')
    }
    await delegate(relay)
    try {
      const hashes = recordHashes(records)
      const answer = encodeFunctionData({
        abi: disputeGameAbi,
        functionName: 'postRecords',
        args: [id, indices, indices.map(i => ({ state: records[i].state, lossBits: wordOf(records[i].loss, 'f32') })), indices.map(i => nodeProof(hashes, i).map(h => toHex(h)))]
      })
      // The nonce as the last block left it: the authorization, executed by its own
      // authority, used one nonce more than the transaction that carried it, and once in a
      // clean-clone run the nonce manager (which reads the pending count) missed it: "nonce
      // too low".
      const nonce = await as.trainer.public.getTransactionCount({ address: as.trainer.account.address, blockTag: 'latest' })
      const hash = await as.trainer.wallet.sendTransaction({
        to: as.trainer.account.address, data: encodeFunctionData({ abi: artifact.abi, functionName: 'call', args: [deployment.contracts.disputeGame, answer] }), nonce
      })
      const receipt = await waitForReceipt(as.trainer, hash)
      assert.equal(receipt.status, 'success')
      assert.notEqual(receipt.to?.toLowerCase(), deployment.contracts.disputeGame.toLowerCase(), 'no call to the game in the transaction itself')
      assert.equal((await readDispute(as.challenger, deployment, id)).reasonName, 'answered')
      const posted = await postedRecords(as.challenger, deployment, id)
      assert.deepEqual(posted?.map(r => r.index), indices)
      const { transcriptRoot } = await readJob(as.challenger, deployment, jobId)
      checkPosted(posted ?? [], transcriptRoot, recipe.steps + 1)
      assert.deepEqual(posted?.map(r => r.proof), indices.map(i => nodeProof(hashes, i).map(h => toHex(h))))
    } finally {
      await delegate(zeroAddress) // a plain account again, for the tests after this one
    }
  })
})
