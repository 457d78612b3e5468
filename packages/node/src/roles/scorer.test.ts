import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'viem'
import {
  advanceTime, channelBetween, connect, deploy, devnetAccount, epochAt, epochTimes, fundEpoch, readEpoch, readScoringSchedule, registerAndStake,
  registerService, tokenBalance, transferTokens, type Clients, type Deployment, type Devnet, type ScoringSchedule
} from '@commons/chain'
import { startCappedDevnet } from '../testing/cappedDevnet.ts'
import { openStore, type Store } from '@commons/store'
import { loadServedModel, serveInference, startNetwork, startProvider, startScorer, type NetworkNode, type Provider, type Scorer, type ServedModel } from '../index.ts'
import { writeTinyModel } from '../testing/tinyModel.ts'

/**
 * Validators scoring two providers on a real anvil, over libp2p on loopback: one serves
 * the model it registered, the other serves another model's weights under the same state
 * root. The scorers pay for their probes through channels, replay every answer, commit
 * and reveal their weights; the liar gets no weight and no reward, and the epoch's
 * payouts sum exactly to its pool.
 */

const PRICE = parseEther('0.01')
const EPOCH = 600n
const COMMIT = 300n

let root: string
let devnet: Devnet
let deployment: Deployment
let schedule: ScoringSchedule
const as: Record<string, Clients> = {}
const networks: NetworkNode[] = []
const stores: Store[] = []
const providers: Provider[] = []
const scorers: Scorer[] = []
const services: Record<string, bigint> = {}
const said: string[] = []

async function network (name: string): Promise<NetworkNode> {
  const store = await openStore(join(root, name))
  stores.push(store)
  const net = await startNetwork({ blockstore: store.blocks })
  networks.push(net)
  return net
}

async function model (name: string, seed: number): Promise<ServedModel> {
  const dir = join(root, name)
  await mkdir(dir, { recursive: true })
  await writeTinyModel(dir, seed)
  return loadServedModel(dir)
}

async function serve (name: string, served: ServedModel, registeredRoot: ServedModel['root']): Promise<void> {
  const provider = startProvider({ clients: as[name], deployment }, { model: served, pricePer1k: PRICE, home: join(root, name), worker: false, claimPollMs: 0 })
  providers.push(provider)
  const net = await network(`${name}-net`)
  await serveInference(net, provider)
  await registerAndStake(as[name], deployment, { peerId: '0x01', roles: [], amount: parseEther('20') })
  services[name] = await registerService(as[name], deployment, { modelRoot: registeredRoot, modelCid: '0x01', pricePer1k: PRICE, endpoint: net.multiaddrs()[0], stake: parseEther('10') })
}

const chainNow = async (): Promise<bigint> => (await as.deployer.public.getBlock()).timestamp

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-scorer-'))
  devnet = await startCappedDevnet({ home: root })
  const names = ['deployer', 'honest', 'liar', 'validatorA', 'validatorB']
  for (const [i, name] of names.entries()) as[name] = await connect(devnet.rpcUrl, devnetAccount(i))
  deployment = await deploy(as.deployer, { scoringEpochLength: EPOCH, scoringCommitLength: COMMIT })
  schedule = await readScoringSchedule(as.deployer, deployment)
  for (const name of names.slice(1)) await transferTokens(as.deployer, deployment, as[name].account.address, parseEther('1000'))
  const good = await model('good', 7)
  const other = await model('other', 8)
  await serve('honest', good, good.root)
  // The liar registers the good model's root but generates with other weights, and signs receipts naming the good root.
  await serve('liar', { ...other, root: good.root }, good.root)
  for (const [name, stake] of [['validatorA', '300'], ['validatorB', '200']] as const) {
    await registerAndStake(as[name], deployment, { peerId: '0x02', roles: ['validator'], amount: parseEther(stake) })
    scorers.push(startScorer({ clients: as[name], deployment, network: await network(`${name}-net`) }, {
      references: [good], probesPerService: 3, tokensPerProbe: 12, pollMs: 0, log: line => { said.push(`${name}: ${line}`) }
    }))
  }
})

after(async () => {
  for (const s of scorers) await s.stop()
  for (const p of providers) await p.stop()
  for (const n of networks) await n.stop()
  for (const s of stores) await s.close()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

describe('scorers on a real anvil with real providers', () => {
  it('pay for probes, replay them, give the lying provider no weight, and split the pool exactly', async () => {
    const { epoch, phase } = epochAt(schedule, await chainNow())
    assert.equal(phase, 'commit')
    const pool = parseEther('50') + 1n
    await fundEpoch(as.deployer, deployment, epoch, pool)
    const [a, b] = scorers
    const outcomes = await a.probeAll()
    assert.equal(outcomes.filter(o => o.service === services.honest && o.correct).length, 3, `the honest provider answers right: ${said.join('\n')}`)
    assert.equal(outcomes.filter(o => o.service === services.liar && o.verdict === 'wrong-tokens').length, 3, 'the liar is caught on every probe by replaying it')
    assert.notEqual(await channelBetween(as.validatorA, deployment, as.validatorA.account.address, as.honest.account.address), null, 'probes are paid through a channel')
    await a.commit(epoch)
    await b.tick() // in the commit phase: probes every service and commits
    const times = epochTimes(schedule, epoch)
    await advanceTime(devnet.rpcUrl, Number(times.reveal - await chainNow()))
    await a.reveal(epoch)
    await b.tick() // in the reveal phase: reveals
    await advanceTime(devnet.rpcUrl, Number(times.end - await chainNow()))
    const before = await tokenBalance(as.deployer, deployment, as.validatorA.account.address)
    const claimed = await a.settleAndClaim(epoch)
    assert.ok(claimed > 0n, 'the validator is paid for agreeing with consensus')
    assert.equal(await tokenBalance(as.deployer, deployment, as.validatorA.account.address) - before, claimed)
    const result = await readEpoch(as.deployer, deployment, epoch)
    assert.equal(result.validators.length, 2, 'both scorers revealed')
    const byService = new Map(result.services.map(s => [s.service, s]))
    assert.equal(byService.get(services.liar)?.consensus ?? 0n, 0n, 'the liar has no consensus weight')
    assert.equal(byService.get(services.liar)?.payout ?? 0n, 0n, 'the liar earns nothing')
    assert.equal(byService.get(services.honest)?.consensus, parseEther('1'), 'the honest provider has all of it')
    const paid = result.services.reduce((sum, s) => sum + s.payout, 0n) + result.validatorPayouts.reduce((sum, v) => sum + v.payout, 0n)
    assert.equal(paid, pool, 'payouts sum exactly to the pool')
  })
})
