import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { spawn, type ChildProcess } from 'node:child_process'
import { anvilPath, connect, deploy, devnetAccount, freePort, readJob, registerAndStake, transferTokens, type Clients, type Deployment } from '@commons/chain'
import type { Recipe } from '@commons/engine'
import { NodeLockedError, peerIdBytes, startNode, type CommonsNode } from './node.ts'
import { startRpcProxy, type RpcProxy } from './testing/rpcProxy.ts'
import { tinyJob } from './testing/tinyJob.ts'
import { until as waitUntil, type Check } from './testing/until.ts'

/**
 * A node on a real provider: eth_getLogs capped at 1,000 blocks (the proxy refuses
 * more), a chain 3,000+ blocks past the deployment, a budget of one request a second
 * when idle, jobs it had to skip, and a second node started on its home.
 */

let root: string
let anvil: ChildProcess
let rpcUrl: string
let proxy: RpcProxy
let bank: Clients
let deployment: Deployment
let requester: CommonsNode
let version: string
let recipe: Recipe
const nodes: CommonsNode[] = []
const lines: string[] = []

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-events-'))
  // Anvil keeping only recent states (logs stay): it mines faster.
  const port = await freePort()
  anvil = spawn(anvilPath(), ['--host', '127.0.0.1', '--port', String(port), '--silent', '--prune-history', '100'], { stdio: 'ignore' })
  rpcUrl = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      bank = await connect(rpcUrl, devnetAccount(0))
      break
    } catch (error) {
      if (i > 200) throw error
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
  proxy = await startRpcProxy({ target: rpcUrl, maxLogRange: 1000 })
  deployment = { ...await deploy(bank), rpcUrl }
  requester = await startNode({ home: join(root, 'requester'), rpcUrl: rpcUrl, deployment, roles: ['requester'], password: 'x', scryptN: 2 ** 10, apiPort: false })
  nodes.push(requester)
  await bank.wallet.sendTransaction({ to: requester.address, value: parseEther('5') })
  await transferTokens(bank, deployment, requester.address, parseEther('5000'))
  ;({ version, recipe } = await tinyJob(requester.store, root, 30_000, 4))
})

after(async () => {
  for (const node of nodes) await node.stop().catch(() => {})
  await proxy?.close()
  anvil?.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

const until = async (what: string, check: Check, timeoutMs = 120_000): Promise<void> => waitUntil(what, check, { timeoutMs, everyMs: 100, said: () => lines.slice(-30).join('\n') })

const post = async (): Promise<bigint> => requester.postJob({ datasetCid: version, recipe, reward: parseEther('100'), jobStake: parseEther('100') })

describe('a node behind a provider that caps eth_getLogs at 1,000 blocks', () => {
  let trainer: CommonsNode
  /** The trainer that trains alone, and the job it submitted. */
  let lonely: CommonsNode
  let lonelyJob: bigint

  it('catches up from 3,000 blocks behind without one oversized log query, and claims the jobs it skipped once staked', { timeout: 200_000 }, async () => {
    const first = await post()
    // 3,000 blocks, 1,000 a request (anvil mines one large batch far more slowly), so the
    // catch-up takes four windows. Anvil's time per block grows with the chain (12,000
    // blocks took ~80 s of this file's ~120).
    for (let i = 0; i < 3; i++) {
      const answer = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'anvil_mine', params: ['0x3e8'] }) })
      assert.equal(answer.status, 200)
    }
    const second = await post()
    const head = await bank.public.getBlockNumber()
    assert.ok(head - BigInt(deployment.block) > 3_000n)
    trainer = await startNode({ home: join(root, 'trainer'), rpcUrl: proxy.url, deployment, roles: ['trainer'], password: 'x', scryptN: 2 ** 10, apiPort: false, log: line => lines.push(line) })
    nodes.push(trainer)
    await trainer.network.connect(requester.network.multiaddrs()[0])
    await until('the trainer to see both jobs', () => trainer.state.job(first, 'seen') !== undefined && trainer.state.job(second, 'seen') !== undefined, 30_000)
    assert.equal(proxy.refusedRanges, 0, 'no eth_getLogs over 1,000 blocks')
    assert.ok((proxy.counts.get('eth_getLogs') ?? 0) >= 4, 'the history was read in windows')
    // Unfunded and unstaked, it skipped both; once staked it picks them up (one at a time).
    // A job is seen when its event is read and judged once the whole catch-up has been read: wait for the verdict.
    await until('the trainer to judge the first job', () => trainer.state.job(first, 'trainer') !== undefined, 30_000)
    assert.equal(trainer.state.job(first, 'trainer')?.status, 'skipped')
    await bank.wallet.sendTransaction({ to: trainer.address, value: parseEther('5') })
    await transferTokens(bank, deployment, trainer.address, parseEther('2000'))
    await registerAndStake(trainer.clients, deployment, { peerId: peerIdBytes(trainer.peerId), roles: ['trainer'], amount: parseEther('1000') })
    await until('the trainer to submit both jobs it skipped', async () =>
      (await readJob(bank, deployment, first)).statusName === 'submitted' && (await readJob(bank, deployment, second)).statusName === 'submitted', 60_000)
    assert.equal(proxy.refusedRanges, 0)
  })

  it('makes at most one request a second when idle', { timeout: 60_000 }, async () => {
    await trainer.idle()
    await new Promise(resolve => setTimeout(resolve, 1500))
    const before = proxy.total()
    await new Promise(resolve => setTimeout(resolve, 6000))
    const made = proxy.total() - before
    assert.ok(made <= 7, `${made} requests in 6 s`)
  })

  it('acts on an event only once it is `confirmations` blocks deep', { timeout: 60_000 }, async () => {
    const watcher = await startNode({ home: join(root, 'deep'), rpcUrl: proxy.url, deployment, roles: ['validator'], password: 'x', scryptN: 2 ** 10, apiPort: false, pollMs: 100, confirmations: 5 })
    nodes.push(watcher)
    const job = await post()
    await new Promise(resolve => setTimeout(resolve, 1500))
    assert.equal(watcher.state.job(job, 'seen'), undefined, 'not yet: the block is at the head')
    await bank.public.request({ method: 'anvil_mine' as never, params: ['0x5'] as never })
    await until('the job to be seen 5 blocks deep', () => watcher.state.job(job, 'seen') !== undefined, 10_000)
  })

  it('refuses a second node on the same home, and starts once the first has stopped', { timeout: 60_000 }, async () => {
    const options = { home: join(root, 'locked'), rpcUrl: proxy.url, deployment, roles: ['validator' as const], password: 'x', scryptN: 2 ** 10, apiPort: false as const }
    const first = await startNode(options)
    await assert.rejects(startNode(options), (error: Error) => error.name === NodeLockedError.name)
    await first.stop()
    const again = await startNode(options)
    await again.stop()
  })

  it('stops at once while a job\'s inputs are wanted from no peer, takes the job up after its next start, and asks again when the fetch times out', { timeout: 120_000 }, async () => {
    // Alone: no peer holds the job's recipe, so its fetch would wait out its timeout (60 s).
    const options = { home: join(root, 'lonely'), rpcUrl: proxy.url, deployment, roles: ['trainer' as const], password: 'x', scryptN: 2 ** 10, apiPort: false as const, pollMs: 100 }
    lonely = await startNode(options)
    await bank.wallet.sendTransaction({ to: lonely.address, value: parseEther('5') })
    await transferTokens(bank, deployment, lonely.address, parseEther('2000'))
    await registerAndStake(lonely.clients, deployment, { peerId: peerIdBytes(lonely.peerId), roles: ['trainer'], amount: parseEther('1000') })
    await trainer.stop() // the job is the lonely node's alone
    const job = lonelyJob = await post()
    await until('the lonely trainer to see the job', () => lonely.state.job(job, 'seen') !== undefined, 30_000)
    // It reads the job and its stake (a few requests), then wants the recipe.
    await new Promise(resolve => setTimeout(resolve, 2000))
    const started = Date.now()
    await lonely.stop()
    const took = Date.now() - started
    assert.ok(took < 5000, `stopped in ${took} ms`)
    // Restarted with a short fetch timeout: still alone, its fetch times out, which may be the
    // network's fault: the job is skipped and asked for again, not refused.
    lonely = await startNode({ ...options, fetchTimeoutMs: 3000, log: line => lines.push(line) })
    nodes.push(lonely)
    assert.deepEqual([lonely.state.job(job, 'trainer')?.status, lonely.state.job(job, 'trainer')?.detail], ['skipped', { why: 'the node stopped while fetching its inputs' }])
    // No block is mined from here: skipped jobs are looked at again on the node's own clock too.
    await until('the fetch to time out', () => lonely.state.job(job, 'trainer')?.detail.fetchTimeouts === 1, 30_000)
    assert.equal(lonely.state.job(job, 'trainer')?.status, 'skipped')
    assert.match(String(lonely.state.job(job, 'trainer')?.detail.why), /could not be fetched .*\(no peer gave it in time\)$/)
    await lonely.network.connect(requester.network.multiaddrs()[0])
    await until('the restarted trainer to submit the job', async () => (await readJob(bank, deployment, job)).statusName === 'submitted', 60_000)
  })

  it('a validator stopped while runs are fetched checks every result it had taken up after its next start, and asks again (three times) when a fetch times out, then checks without the run', { timeout: 120_000 }, async () => {
    // Alone: the runs of the submitted results are held by trainers it is not connected to,
    // so its first check waits on a fetch while the others queue behind it.
    const options = { home: join(root, 'checker'), rpcUrl: proxy.url, deployment, roles: ['validator' as const], password: 'x', scryptN: 2 ** 10, apiPort: false as const, pollMs: 100, checkSteps: 2 }
    let checker = await startNode(options)
    nodes.push(checker)
    await bank.wallet.sendTransaction({ to: checker.address, value: parseEther('5') })
    await transferTokens(bank, deployment, checker.address, parseEther('1000'))
    await registerAndStake(checker.clients, deployment, { peerId: peerIdBytes(checker.peerId), roles: ['validator'], amount: parseEther('500') })
    await until('the validator to take up the lonely trainer\'s result', () => checker.state.job(lonelyJob, 'validator')?.status === 'checking', 30_000)
    const started = Date.now()
    await checker.stop()
    assert.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms`)
    // Restarted, still alone, with a short fetch timeout: the checks are taken up again and,
    // as no peer gives their runs, go to the back of the queue and are tried again.
    checker = await startNode({ ...options, fetchTimeoutMs: 3000, log: line => lines.push(line) })
    nodes.push(checker)
    assert.equal(checker.state.job(lonelyJob, 'validator')?.status, 'checking', 'still to be checked')
    await until('a fetch to time out and its check to be asked again', () => lines.some(line => /job \d+: .* in time\)?; checking again$/.test(line)), 30_000)
    assert.equal(checker.state.job(lonelyJob, 'validator')?.status, 'checking')
    await checker.network.connect(lonely.network.multiaddrs()[0])
    await until('the restarted validator to attest the lonely trainer\'s result', () => checker.state.job(lonelyJob, 'validator')?.status === 'attested', 60_000)
    assert.ok((await readJob(bank, deployment, lonelyJob)).attestors.some(a => a.toLowerCase() === checker.address.toLowerCase()))
    // The runs the stopped trainer held are asked for three times, then checked without them
    // (checkWithheld.ts): trained from S_0, their honest transcripts leave nothing to dispute.
    await until('a result whose run nobody serves to be checked without it', () => checker.state.jobs().some(j =>
      j.role === 'validator' && j.status === 'passed' && /^no peer serves its run; training it from S_0 gives its transcript root$/.test(String(j.detail.why))), 60_000)
  })
})
