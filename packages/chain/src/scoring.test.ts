import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'viem'
import {
  advanceTime, claimProviderReward, claimValidatorReward, commitWeights, connect, deploy, devnetAccount, epochAt, epochTimes, fundEpoch,
  readEpoch, readScoringSchedule, registerAndStake, registerService, revealWeights, settleEpoch, startDevnet, tokenBalance, transferTokens,
  type Clients, type Deployment, type Devnet
} from './index.ts'

let home: string
let devnet: Devnet
let deployment: Deployment
const as: Record<string, Clients> = {}
const names = ['deployer', 'provider1', 'provider2', 'validator1', 'validator2'] as const

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-scoring-'))
  devnet = await startDevnet({ home })
  for (const [i, name] of names.entries()) as[name] = await connect(devnet.rpcUrl, devnetAccount(i))
  deployment = await deploy(as.deployer, { scoringEpochLength: 600n, scoringCommitLength: 300n })
  for (const name of names.slice(1)) await transferTokens(as.deployer, deployment, as[name].account.address, parseEther('1000'))
})

after(async () => {
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

const now = async (): Promise<bigint> => (await as.deployer.public.getBlock()).timestamp
const refusal = (name: string) => (error: unknown): boolean => {
  assert.equal((error as { details?: { error?: string } }).details?.error, name)
  return true
}

describe('scoring epochs on a real anvil', () => {
  it('commits, reveals, settles by stake-weighted median and pays out exactly the pool', async () => {
    const ids: bigint[] = []
    for (const name of ['provider1', 'provider2'] as const) {
      await registerAndStake(as[name], deployment, { peerId: '0x01', roles: [], amount: parseEther('20') })
      ids.push(await registerService(as[name], deployment, { modelRoot: `0x${'11'.repeat(32)}`, modelCid: '0x01', pricePer1k: 1n, endpoint: name, stake: parseEther('10') }))
    }
    await registerAndStake(as.validator1, deployment, { peerId: '0x02', roles: ['validator'], amount: parseEther('300') })
    await registerAndStake(as.validator2, deployment, { peerId: '0x03', roles: ['validator'], amount: parseEther('100') })
    const schedule = await readScoringSchedule(as.deployer, deployment)
    const { epoch, phase } = epochAt(schedule, await now())
    assert.equal(phase, 'commit')
    const pool = parseEther('100') + 3n
    await fundEpoch(as.deployer, deployment, epoch, pool)
    const c1 = await commitWeights(as.validator1, deployment, epoch, [{ service: ids[1], weight: 0n }, { service: ids[0], weight: 1000n }])
    const c2 = await commitWeights(as.validator2, deployment, epoch, [{ service: ids[0], weight: 1n }, { service: ids[1], weight: 1n }])
    await assert.rejects(revealWeights(as.validator1, deployment, c1), refusal('NotPhase'))
    const times = epochTimes(schedule, epoch)
    await advanceTime(devnet.rpcUrl, Number(times.reveal - await now()))
    await assert.rejects(revealWeights(as.validator2, deployment, { ...c2, weights: [1n, 0n] }), refusal('RevealMismatch'))
    await revealWeights(as.validator1, deployment, c1)
    await revealWeights(as.validator2, deployment, c2)
    await advanceTime(devnet.rpcUrl, Number(times.end - await now()))
    await settleEpoch(as.deployer, deployment, epoch)
    const result = await readEpoch(as.deployer, deployment, epoch)
    assert.equal(result.settled, true)
    const byService = new Map(result.services.map(s => [s.service, s]))
    assert.equal(byService.get(ids[0])?.consensus, parseEther('1'), 'the majority stake gives provider 1 everything')
    assert.equal(byService.get(ids[1])?.consensus, 0n)
    const paid = result.services.reduce((sum, s) => sum + s.payout, 0n) + result.validatorPayouts.reduce((sum, v) => sum + v.payout, 0n)
    assert.equal(paid, pool, 'payouts sum exactly to the pool')
    const v1 = result.validatorPayouts.find(v => v.validator === as.validator1.account.address)
    const v2 = result.validatorPayouts.find(v => v.validator === as.validator2.account.address)
    assert.ok(v1 !== undefined && v2 !== undefined && v1.payout / 3n > v2.payout, 'the validator that disagreed earns less per stake')
    const before = await tokenBalance(as.deployer, deployment, as.provider1.account.address)
    await claimProviderReward(as.deployer, deployment, epoch, ids[0])
    assert.equal(await tokenBalance(as.deployer, deployment, as.provider1.account.address) - before, byService.get(ids[0])?.payout)
    await claimValidatorReward(as.deployer, deployment, epoch, as.validator1.account.address)
    await assert.rejects(claimValidatorReward(as.deployer, deployment, epoch, as.validator1.account.address), refusal('AlreadyClaimed'))
  })
})
