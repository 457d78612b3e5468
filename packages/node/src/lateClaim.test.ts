import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { connect, deploy, devnetAccount, readJob, registerAndStake, startDevnet, type Clients, type Deployment, type Devnet } from '@commons/chain'
import type { Recipe } from '@commons/engine'
import { peerIdBytes, type CommonsNode } from './node.ts'
import { fundedNodes } from './testing/fundedNodes.ts'
import { tinyJob } from './testing/tinyJob.ts'
import { until as waitUntil, type Check } from './testing/until.ts'

/**
 * A trainer's claim mined after the node stopped waiting for it (a slow or congested
 * chain): the job is the trainer's on-chain, and if the node took it for lost it would
 * never train it and be slashed for absence. Real nodes on anvil, whose mining is held
 * while the claim is sent.
 */

let root: string
let devnet: Devnet
let deployment: Deployment
let bank: Clients
let requester: CommonsNode
let trainer: CommonsNode
let version: string
let recipe: Recipe
const { start, nodes, lines } = fundedNodes(() => ({ root, rpcUrl: devnet.rpcUrl, deployment, bank }))

const until = async (what: string, check: Check, timeoutMs = 120_000): Promise<void> => waitUntil(what, check, { timeoutMs, everyMs: 100, said: () => lines.slice(-30).join('\n') })
const rpc = async (method: string, params: unknown[] = []): Promise<void> => { await bank.public.request({ method: method as never, params: params as never }) }

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-late-claim-'))
  devnet = await startDevnet({ home: join(root, 'chain') })
  bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = await deploy(bank, { disputeBond: parseEther('10'), moveTime: 600n })
  requester = await start('requester', ['requester'])
  // Its transactions given two seconds to be mined.
  trainer = await start('trainer', ['trainer'], { receiptTimeoutMs: 2_000 })
  await registerAndStake(trainer.clients, deployment, { peerId: peerIdBytes(trainer.peerId), roles: ['trainer'], amount: parseEther('1000') })
  await trainer.network.connect(requester.network.multiaddrs()[0])
  ;({ version, recipe } = await tinyJob(requester.store, root, 20_000, 5))
})

after(async () => {
  await rpc('evm_setAutomine', [true]).catch(() => {})
  for (const node of nodes) await node.stop().catch(() => {})
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

describe('a claim mined late', () => {
  it('is trained once it lands: the job is looked at again, found the trainer\'s, and submitted', { timeout: 300_000 }, async () => {
    const jobId = await requester.postJob({ datasetCid: version, reward: parseEther('100'), jobStake: parseEther('100'), recipe })
    // Mining held: the claim the trainer sends now waits in the pool past its two seconds.
    await rpc('evm_setAutomine', [false])
    await until('the trainer to give up waiting for its claim', () => lines.some(l => l.startsWith('trainer: ') && l.includes(`job ${jobId}: skipped for now (its claim is not mined yet`)))
    assert.equal((await readJob(bank, deployment, jobId)).statusName, 'open', 'not mined yet')
    await rpc('evm_setAutomine', [true])
    await rpc('evm_mine')
    const claimed = await readJob(bank, deployment, jobId)
    assert.equal(claimed.statusName, 'claimed')
    assert.equal(claimed.trainer.toLowerCase(), trainer.address.toLowerCase(), 'the late claim is the trainer\'s')
    await until(`job ${jobId} to be submitted`, async () => (await readJob(bank, deployment, jobId)).statusName === 'submitted')
    assert.equal(trainer.state.job(jobId, 'trainer')?.status, 'submitted')
  })
})
