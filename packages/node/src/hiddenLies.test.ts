import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getAbiItem, parseEther, parseTransaction, toFunctionSelector, type Hex } from 'viem'
import { advanceTime, allEvents, commonsTokenAbi, connect, deploy, devnetAccount, disputeGameAbi, readDispute, readJob, registerAndStake, startDevnet, type Clients, type Deployment, type Devnet } from '@commons/chain'
import type { Recipe } from '@commons/engine'
import { parseFault } from './faults.ts'
import { peerIdBytes, startNode, type CommonsNode } from './node.ts'
import { fundedNodes } from './testing/fundedNodes.ts'
import { tinyJob } from './testing/tinyJob.ts'
import { startRpcProxy, type RpcProxy } from './testing/rpcProxy.ts'
import { until as waitUntil, type Check } from './testing/until.ts'

/**
 * Lies a trainer hides: a transcript whose states are right but one recorded loss is
 * not (caught at the loss op), and a lie in an op whose trace the trainer never
 * publishes (its values forced out on-chain, walked down to the element), and a model
 * file one weight of which is not S_T's. Real nodes on anvil; each lie is slashed.
 */

let root: string
let devnet: Devnet
/** Every node talks to the chain through a provider that caps eth_getLogs at 1,000 blocks. */
let proxy: RpcProxy
let deployment: Deployment
let bank: Clients
let requester: CommonsNode
let validator: CommonsNode
let version: string
let recipe: Recipe
const { start, nodes, lines } = fundedNodes(() => ({ root, rpcUrl: proxy.url, deployment, bank }))

const until = async (what: string, check: Check, timeoutMs = 180_000): Promise<void> => waitUntil(what, check, { timeoutMs, everyMs: 100, said: () => lines.slice(-40).join('\n') })

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-hidden-'))
  devnet = await startDevnet({ home: join(root, 'chain') })
  proxy = await startRpcProxy({ target: devnet.rpcUrl, maxLogRange: 1000 })
  bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = { ...await deploy(bank, { disputeBond: parseEther('10'), moveTime: 600n }), rpcUrl: devnet.rpcUrl }
  requester = await start('requester', ['requester'])
  validator = await start('validator', ['validator'], { checkSteps: 'all', traceWaitMs: 3000 })
  await registerAndStake(validator.clients, deployment, { peerId: peerIdBytes(validator.peerId), roles: ['validator'], amount: parseEther('1000') })
  await validator.network.connect(requester.network.multiaddrs()[0])
  ;({ version, recipe } = await tinyJob(requester.store, root, 20_000, 5))
})

after(async () => {
  for (const node of nodes) await node.stop().catch(() => {})
  assert.equal(proxy?.refusedRanges ?? 0, 0, 'no node asked for more than 1,000 blocks of logs')
  await proxy?.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

/** A trainer node with `fault`, staked and connected to the requester (and to `validators`). */
async function cheaterNode (name: string, fault: string, seed = 3, validators: CommonsNode[] = []): Promise<CommonsNode> {
  const cheater = await start(name, ['trainer'], { fault: parseFault(fault, seed) })
  await registerAndStake(cheater.clients, deployment, { peerId: peerIdBytes(cheater.peerId), roles: ['trainer'], amount: parseEther('1000') })
  await cheater.network.connect(requester.network.multiaddrs()[0])
  for (const v of validators) await v.network.connect(cheater.network.multiaddrs()[0])
  return cheater
}

const postJob = async (): Promise<bigint> => requester.postJob({ datasetCid: version, reward: parseEther('100'), jobStake: parseEther('100'), recipe })

/** A validator whose transactions are given two seconds to be mined (and that gives up on an unserved run after 2 s fetches). */
const STALLED_VALIDATOR = { checkSteps: 'all', traceWaitMs: 3000, fetchTimeoutMs: 2000, receiptTimeoutMs: 2_000 } as const

/**
 * Validator `name`, staked, and a trainer `liarName` lying at step 1 that only it checks;
 * the liar's job submitted, then the chain stalled from any dispute open on (until
 * `proxy.release()`).
 */
async function stalledOpen (name: string, liarName: string, seed: number): Promise<{ validator: CommonsNode, liar: CommonsNode, jobId: bigint }> {
  const validator = await start(name, ['validator'], STALLED_VALIDATOR)
  await registerAndStake(validator.clients, deployment, { peerId: peerIdBytes(validator.peerId), roles: ['validator'], amount: parseEther('1000') })
  await validator.network.connect(requester.network.multiaddrs()[0])
  const liar = await cheaterNode(liarName, 'step=1', seed, [validator])
  const jobId = await postJob()
  await until(`job ${jobId} to be submitted`, async () => (await readJob(bank, deployment, jobId)).statusName === 'submitted')
  const open = toFunctionSelector(getAbiItem({ abi: disputeGameAbi, name: 'open' }))
  proxy.holdMining('eth_sendRawTransaction', params => parseTransaction(params[0] as Hex).data?.startsWith(open) === true)
  return { validator, liar, jobId }
}

/** Once job `jobId` is slashed (the chain mining again), the disputes `validator` opened over it: each a bond. */
async function opensOnceSlashed (jobId: bigint, validator: CommonsNode): Promise<number> {
  await until(`job ${jobId} to be slashed`, async () => (await readJob(bank, deployment, jobId)).statusName === 'slashed', 240_000)
  const opened = await allEvents(bank, { address: deployment.contracts.disputeGame, abi: disputeGameAbi, eventName: 'DisputeOpened', args: { jobId, challenger: validator.address }, fromBlock: BigInt(deployment.block) })
  return opened.length
}

/** A cheating trainer with `fault` trains one job; returns the validator's dispute, once resolved. */
async function caught (name: string, fault: string) {
  const cheater = await cheaterNode(name, fault, 3, [validator])
  try {
    const jobId = await postJob()
    await until(`the validator to dispute job ${jobId}`, () => validator.state.disputes().some(d => d.jobId === String(jobId)))
    const id = BigInt(validator.state.disputes().find(d => d.jobId === String(jobId))?.id ?? -1)
    await until(`dispute ${id} to resolve`, async () => (await readDispute(bank, deployment, id)).resolved)
    return { jobId, dispute: await readDispute(bank, deployment, id) }
  } finally {
    await cheater.stop()
  }
}

describe('lies a trainer hides', () => {
  it('a lie about a recorded loss, with every state right, is slashed at the loss op', { timeout: 300_000 }, async () => {
    const { jobId, dispute } = await caught('loss-liar', 'loss,step=2')
    assert.equal(dispute.winner, 'challenger')
    assert.equal(dispute.reasonName, 'mismatch')
    assert.ok(lines.some(l => l.startsWith('validator: ') && l.includes('the recorded loss is not the loss op')), 'pinpointed at the loss op')
    assert.equal((await readJob(bank, deployment, jobId)).statusName, 'slashed')
  })

  it('a lie about the last record\'s loss (an evaluation of S_T) is slashed over step T', { timeout: 300_000 }, async () => {
    const { jobId, dispute } = await caught('last-loss-liar', `loss,step=${recipe.steps}`)
    assert.equal(dispute.step, recipe.steps)
    assert.equal(dispute.evaluation, true)
    assert.equal(dispute.reasonName, 'mismatch')
    assert.equal((await readJob(bank, deployment, jobId)).statusName, 'slashed')
  })

  it('a lie in an op whose trace the trainer never publishes is walked down on-chain and slashed', { timeout: 300_000 }, async () => {
    const { jobId, dispute } = await caught('withholder', 'step=1,withhold')
    assert.equal(dispute.winner, 'challenger')
    assert.equal(dispute.reasonName, 'mismatch')
    assert.ok(dispute.requests >= 1, 'the values were forced out on-chain')
    assert.ok(lines.some(l => l.startsWith('validator: ') && l.includes('found on-chain')), 'the element was found on-chain')
    assert.equal((await readJob(bank, deployment, jobId)).statusName, 'slashed')
  })

  it('a lie whose published trace is not the trace the trainer posted is walked down on-chain and slashed', { timeout: 300_000 }, async () => {
    const { jobId, dispute } = await caught('misleader', 'step=1,badtrace')
    assert.equal(dispute.winner, 'challenger')
    assert.equal(dispute.reasonName, 'mismatch')
    assert.ok(lines.some(l => l.startsWith('validator: ') && l.includes('published trace cannot be used')), 'the published trace was refused')
    assert.ok(dispute.requests >= 1, 'the values were forced out on-chain')
    assert.equal((await readJob(bank, deployment, jobId)).statusName, 'slashed')
  })

  it('a model file with one weight that is not S_T\'s, the transcript honest, is slashed through ModelFileDisputes', { timeout: 300_000 }, async () => {
    const cheater = await cheaterNode('file-liar', 'model,slot=1,element=4', 3, [validator])
    try {
      const jobId = await postJob()
      await until(`job ${jobId} to be slashed`, async () => (await readJob(bank, deployment, jobId)).statusName === 'slashed')
      // The chain says slashed as soon as the conviction is mined; the validator records
      // what it convicted when its transaction returns, a moment later.
      await until(`the validator to record job ${jobId}'s conviction`, () => validator.state.job(jobId, 'validator')?.detail.modelFile !== undefined)
      const convicted = validator.state.job(jobId, 'validator')?.detail.modelFile as { slot: number, element: number } | undefined
      assert.equal(convicted?.slot, 1, 'the parameter the trainer changed')
      assert.equal(convicted?.element, 4, 'the weight the trainer changed')
      assert.ok(!validator.state.disputes().some(d => d.jobId === String(jobId)), 'no step dispute: every state replayed')
    } finally {
      await cheater.stop()
    }
  })

  /** A validator that gives up on a run after three 2 s fetches (the shared one would wait three minutes first). */
  let keeper: CommonsNode

  it('a lie behind a run the trainer does not serve: the validator trains the job itself, forces the records out by queries, and the liar is slashed', { timeout: 300_000 }, async () => {
    await validator.stop()
    keeper = await start('keeper', ['validator'], { checkSteps: 'all', traceWaitMs: 3000, fetchTimeoutMs: 2000 })
    await registerAndStake(keeper.clients, deployment, { peerId: peerIdBytes(keeper.peerId), roles: ['validator'], amount: parseEther('1000') })
    await keeper.network.connect(requester.network.multiaddrs()[0])
    const hider = await cheaterNode('hider', 'step,hide', 3, [keeper])
    try {
      const jobId = await postJob()
      await until(`job ${jobId} to be slashed`, async () => (await readJob(bank, deployment, jobId)).statusName === 'slashed')
      await until('the keeper to record the dispute it won', () => keeper.state.disputes().some(d => d.jobId === String(jobId) && d.role === 'challenger' && d.status === 'resolved: challenger won'))
      const dispute = keeper.state.disputes().find(d => d.jobId === String(jobId) && d.role === 'challenger')
      assert.ok(Array.isArray(dispute?.detail.queries) && dispute.detail.queries.length >= 1, 'opened over records had by queries')
      assert.equal((await readDispute(bank, deployment, BigInt(dispute.id))).reasonName, 'mismatch')
      assert.ok(keeper.state.disputes().some(d => d.jobId === String(jobId) && d.role === 'querier' && d.detail.reason === 'answered'), 'the trainer answered its queries')
      assert.ok(lines.some(l => l.startsWith('keeper: ') && l.includes('no peer serves its run; training it from S_0')), 'it trained the job itself')
    } finally {
      await hider.stop()
    }
  })

  it('a trainer that serves no run and answers no query is slashed by the query\'s timeout', { timeout: 300_000 }, async () => {
    const silent = await cheaterNode('silent', 'step,hide', 5)
    const jobId = await postJob()
    await until(`job ${jobId} to be submitted`, async () => (await readJob(bank, deployment, jobId)).statusName === 'submitted')
    await silent.stop()
    await until('the keeper to query the silent trainer\'s records', () => lines.some(l => l.startsWith('keeper: ') && l.includes(`job ${jobId}: its transcript is not a training's; query`)))
    await advanceTime(devnet.rpcUrl, 601) // past the query's move time
    await until(`job ${jobId} to be slashed`, async () => (await readJob(bank, deployment, jobId)).statusName === 'slashed')
    await until('the keeper to record why', () => /was not answered: the trainer was slashed \(records-timeout\)/.test(String(keeper.state.job(jobId, 'validator')?.detail.why)))
  })

  it('a run not served whose transcript a training from S_0 gives is passed over, not disputed (its model file is not checked)', { timeout: 300_000 }, async () => {
    // The transcript honest, one weight of the model file not S_T's, the run kept to itself.
    const quiet = await cheaterNode('quiet', 'model,slot=1,element=4,hide', 3, [keeper])
    try {
      const jobId = await postJob()
      await until(`the keeper to judge job ${jobId}`, () => keeper.state.job(jobId, 'validator')?.status === 'passed')
      assert.match(String(keeper.state.job(jobId, 'validator')?.detail.why), /training it from S_0 gives its transcript root/)
      assert.ok(!keeper.state.disputes().some(d => d.jobId === String(jobId)), 'no query, no dispute')
      assert.equal((await readJob(bank, deployment, jobId)).statusName, 'submitted')
    } finally {
      await quiet.stop()
    }
  })

  it('a query the chain took but whose answer the provider lost is not asked, nor paid for, again: the check tried again finds it on-chain', { timeout: 300_000 }, async () => {
    const openQuery = toFunctionSelector(getAbiItem({ abi: disputeGameAbi, name: 'openQuery' }))
    proxy.loseAnswer('eth_sendRawTransaction', params => parseTransaction(params[0] as Hex).data?.startsWith(openQuery) === true)
    const hider = await cheaterNode('hider-3', 'step,hide', 9, [keeper])
    try {
      const jobId = await postJob()
      await until(`job ${jobId} to be slashed`, async () => (await readJob(bank, deployment, jobId)).statusName === 'slashed', 240_000)
      assert.ok(lines.some(l => l.startsWith('keeper: ') && l.includes(`job ${jobId}: checking it without its run failed`)), 'the lost answer failed the check once')
      const asked = await allEvents(bank, { address: deployment.contracts.disputeGame, abi: disputeGameAbi, eventName: 'RecordsQueried', args: { jobId, challenger: keeper.address }, fromBlock: BigInt(deployment.block) })
      const indices = asked.map(e => (e.args.indices ?? []).join(','))
      assert.equal(new Set(indices).size, indices.length, `no records asked for twice: ${indices.join(' / ')}`)
    } finally {
      await hider.stop()
    }
  })

  it('a validator stopped while it waits for the answer to its query takes the check up after a restart, without asking again', { timeout: 300_000 }, async () => {
    const hider = await cheaterNode('hider-2', 'step,hide', 7, [keeper])
    try {
      const jobId = await postJob()
      await until('the keeper to query the trainer', () => ((keeper.state.job(jobId, 'validator')?.detail.queries as string[] | undefined) ?? []).length > 0)
      const asked = keeper.state.job(jobId, 'validator')?.detail.queries
      await keeper.stop()
      keeper = await start('keeper', ['validator'], { checkSteps: 'all', traceWaitMs: 3000, fetchTimeoutMs: 2000 })
      await keeper.network.connect(requester.network.multiaddrs()[0])
      await keeper.network.connect(hider.network.multiaddrs()[0])
      await until(`job ${jobId} to be slashed`, async () => (await readJob(bank, deployment, jobId)).statusName === 'slashed')
      assert.deepEqual(keeper.state.job(jobId, 'validator')?.detail.queries, asked, 'the answer had before the stop was used, not asked for again')
      assert.ok(lines.some(l => l.startsWith('keeper: ') && l.includes(`job ${jobId}: checking the result without its run again`)), 'taken up after the restart')
    } finally {
      await hider.stop()
    }
  })

  it('a dispute open left in the pool past every wait is not sent again, nor after a restart: the one open lands when the chain mines, and the liar is slashed', { timeout: 300_000 }, async () => {
    // The last tests: no other validator races this one to the dispute (its open, held
    // with the chain, would stall this one's bond approval too).
    await keeper.stop()
    const stalled = await stalledOpen('patient', 'stalled-liar', 3)
    let patient = stalled.validator
    const { liar, jobId } = stalled
    try {
      await until('the patient validator to hold its open back', () => lines.some(l => l.startsWith('patient: ') && l.includes(`job ${jobId}: `) && l.includes('the dispute is taken up once it is mined')), 120_000)
      await until('the patient validator to find its open still waiting', () => lines.some(l => l.startsWith('patient: ') && l.includes(`job ${jobId}: its dispute's open is still waiting in the chain's pool`)), 60_000)
      // Stopped and started again meanwhile: it looks at the open it held back, it does not check and open anew.
      const seen = lines.length
      await patient.stop()
      // Started without fundedNodes' funding: the chain mines nothing now.
      patient = await startNode({ home: join(root, 'patient'), rpcUrl: proxy.url, deployment, roles: ['validator'], password: 'x', scryptN: 2 ** 10, apiPort: false, pollMs: 200, log: line => lines.push(`patient: ${line}`), ...STALLED_VALIDATOR })
      nodes.push(patient)
      await patient.network.connect(requester.network.multiaddrs()[0])
      await patient.network.connect(liar.network.multiaddrs()[0])
      await until('the restarted validator to find its open still waiting', () => lines.slice(seen).some(l => l.startsWith('patient: ') && l.includes(`job ${jobId}: its dispute's open is still waiting in the chain's pool`)), 60_000)
      await proxy.release()
      const opened = await opensOnceSlashed(jobId, patient)
      assert.equal(opened, 1, 'one open of the patient validator, one bond')
      const again = lines.filter(l => l.startsWith('patient: ') && (/its dispute's open was (mined and reverted|dropped)/.test(l) || l.includes(`job ${jobId}: checking the result again`)))
      assert.deepEqual(again, [], 'never checked nor opened again')
      assert.ok(lines.some(l => l === `patient: job ${jobId}: its dispute's open was held back before the stop; looking at it again`), 'taken up after the restart')
    } finally {
      await proxy.release()
      await liar.stop()
      await patient.stop()
    }
  })

  it('a copy of a held open whose send lost its answer is known by the nonce it holds: not opened again beside it, one bond', { timeout: 300_000 }, async () => {
    const { validator: unheard, liar, jobId } = await stalledOpen('unheard', 'unheard-liar', 5)
    // The copy writeAndWait sends at a higher fee reaches the pool, but its answer is lost:
    // its hash is never had, and the first open, replaced, is unknown to the chain.
    const open = toFunctionSelector(getAbiItem({ abi: disputeGameAbi, name: 'open' }))
    let opens = 0
    proxy.loseAnswer('eth_sendRawTransaction', params => parseTransaction(params[0] as Hex).data?.startsWith(open) === true && ++opens === 2)
    try {
      const said = (): string[] => lines.filter(l => l.startsWith('unheard: '))
      await until('the validator to look at its held open', () => said().some(l => l.includes(`job ${jobId}: its nonce `) || l.includes(`job ${jobId}: its dispute's open was mined and reverted, or dropped`)), 120_000)
      await proxy.release()
      const opened = await opensOnceSlashed(jobId, unheard)
      assert.equal(opened, 1, `one open, one bond:\n${said().join('\n')}`)
      assert.ok(said().some(l => l.includes(`job ${jobId}: its nonce `) && l.includes('is held in the chain\'s pool by a transaction not known as its open')), said().join('\n'))
    } finally {
      await proxy.release()
      await liar.stop()
      await unheard.stop()
    }
  })

  it('a dispute open the chain drops from its pool is opened again at the nonce it left unused, once', { timeout: 300_000 }, async () => {
    const { validator: dropped, liar, jobId } = await stalledOpen('dropped', 'dropped-liar', 4)
    try {
      await until('the validator to hold its open back', () => Array.isArray(dropped.state.job(jobId, 'validator')?.detail.heldOpen), 120_000)
      // The chain forgets every transaction in its pool (this open's copies, and any other
      // validator's open held with it, which waits out the default receipt wait before it
      // looks again), then mines again.
      await bank.public.request({ method: 'anvil_dropAllTransactions' as never, params: [] as never })
      await proxy.release()
      const opened = await opensOnceSlashed(jobId, dropped)
      const said = lines.filter(l => l.startsWith('dropped: ')).join('\n')
      assert.equal(opened, 1, `one open, one bond:\n${said}`)
      assert.ok(said.includes(`job ${jobId}: its dispute's open was mined and reverted, or dropped by the chain; opening it again`), said)
    } finally {
      await proxy.release()
      await liar.stop()
      await dropped.stop()
    }
  })

  it('a records query left in the pool past its wait is not asked again beside it: each set of records asked once, one bond each', { timeout: 300_000 }, async () => {
    const asker = await start('asker', ['validator'], STALLED_VALIDATOR)
    const hider = await cheaterNode('held-hider', 'step,hide', 11, [asker])
    try {
      await registerAndStake(asker.clients, deployment, { peerId: peerIdBytes(asker.peerId), roles: ['validator'], amount: parseEther('1000') })
      await asker.network.connect(requester.network.multiaddrs()[0])
      // The chain stalls from the first query on. The check tried again asks for the same
      // records; if it sends anything (the query's bond approval first), the chain mines
      // again a moment later, as a stalled chain does, while that send waits: a second
      // query would follow the approval and land beside the first.
      const openQuery = toFunctionSelector(getAbiItem({ abi: disputeGameAbi, name: 'openQuery' }))
      const approve = toFunctionSelector(getAbiItem({ abi: commonsTokenAbi, name: 'approve' }))
      let queried = false
      let resumed = false
      proxy.holdMining('eth_sendRawTransaction', params => {
        const tx = parseTransaction(params[0] as Hex)
        if (tx.data?.startsWith(openQuery) === true) return (queried = true)
        if (queried && !resumed && tx.data?.startsWith(approve) === true && tx.to?.toLowerCase() === deployment.contracts.token.toLowerCase()) {
          resumed = true
          setTimeout(() => { void proxy.release() }, 300)
        }
        return false
      })
      const jobId = await postJob()
      const said = (): string[] => lines.filter(l => l.startsWith('asker: '))
      await until('the validator to look at its query again', () => resumed || said().some(l => l.includes(`job ${jobId}: its query is still waiting in the chain's pool`)), 240_000)
      await proxy.release()
      await until(`job ${jobId} to be slashed`, async () => (await readJob(bank, deployment, jobId)).statusName === 'slashed', 240_000)
      const asked = await allEvents(bank, { address: deployment.contracts.disputeGame, abi: disputeGameAbi, eventName: 'RecordsQueried', args: { jobId, challenger: asker.address }, fromBlock: BigInt(deployment.block) })
      const indices = asked.map(e => (e.args.indices ?? []).join(','))
      assert.equal(new Set(indices).size, indices.length, `no records asked for twice: ${indices.join(' / ')}\n${said().join('\n')}`)
      assert.ok(said().some(l => l.includes(`job ${jobId}: its query is still waiting in the chain's pool`)), said().join('\n'))
    } finally {
      await proxy.release()
      await hider.stop()
      await asker.stop()
    }
  })
})
