import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeFunctionData, parseEther, type Abi, type Hex } from 'viem'
import {
  advanceTime, commonsTokenAbi, connect, deploy, deployOne, inferenceDisputesAbi, send, devnetAccount, ensureServicePrograms, ForwardPrograms, generationGame, GenerationChallenger, openChannel, readGenerationDispute, readService,
  registerAndStake, registerService, signVoucher, startDevnet, tokenBalance, transferTokens, voucherToJson, type Clients, type Deployment, type Devnet
} from '@commons/chain'
import { generate, referenceContext } from '@commons/engine'
import { openStore, type Store } from '@commons/store'
import {
  checkAnswer, costOf, startScorer, loadServedModel, playGenerationDispute, replayModelOf, requestInference, servedStateOf, serveInference, signedAnswer, startGenerationDefence,
  startNetwork, startProvider, type AnswerFault, type InferenceAnswer, type NetworkNode, type Provider, type ReplayModel, type ServedModel
} from './index.ts'
import { writeTinyRun } from './testing/tinyModel.ts'
import { earlyLie } from './testing/earlyLie.ts'
import { signReceipt, tokensHash } from './receipt.ts'

/**
 * Generation disputes played by the nodes themselves on a real anvil, over libp2p on
 * loopback: a client pays for answers, replays each with its copy of the model and
 * disputes a wrong token to the end (checkAnswer); the provider's node answers on its
 * own (its defence reads every dispute from the chain). A lying provider is slashed; an
 * honest one is never disputed by a replaying client, and a provider restarted mid-dispute
 * still defends (and wins) from the chain's record alone.
 */

const PRICE = parseEther('0.01')
const TOKENS = 8
const ctx = referenceContext()

let root: string
let devnet: Devnet
let deployment: Deployment
let dir: string
let model: ServedModel
let replay: ReplayModel
let programs: ForwardPrograms
const as: Record<string, Clients> = {}
const stops: Array<() => Promise<void>> = []
const served: Record<string, { provider: Provider, address: string, service: bigint }> = {}
let clientNet: NetworkNode
const channels = new Map<string, { id: Hex, signed: bigint }>()

async function network (name: string): Promise<NetworkNode> {
  await mkdir(join(root, name), { recursive: true })
  const store: Store = await openStore(join(root, name))
  const net = await startNetwork({ blockstore: store.blocks })
  stops.push(async () => { await net.stop(); await store.close() })
  return net
}

/** A provider of the run with its own service, answering its disputes (defence polled by hand: pollMs 0). */
async function serve (name: string, fault?: AnswerFault): Promise<void> {
  const clients = as[name]
  const provider = startProvider({ clients, deployment, engine: ctx }, {
    model, pricePer1k: PRICE, home: join(root, name), worker: false, claimPollMs: 0, fault, defence: { state: await servedStateOf(dir, model.recipe, model.root, ctx), pollMs: 0 }
  })
  stops.push(async () => provider.stop())
  const net = await network(`${name}-net`)
  await serveInference(net, provider)
  await registerAndStake(clients, deployment, { peerId: '0x01', roles: [], amount: parseEther('50') })
  const service = await registerService(clients, deployment, { modelRoot: model.root, modelCid: '0x01', pricePer1k: PRICE, endpoint: net.multiaddrs()[0], stake: parseEther('40') })
  provider.setService(service)
  await ensureServicePrograms(clients, deployment, service, programs)
  served[name] = { provider, address: net.multiaddrs()[0], service }
}

/** A paid greedy answer of `name` to `prompt`. */
async function ask (name: string, prompt: string): Promise<InferenceAnswer> {
  let channel = channels.get(name)
  if (channel === undefined) {
    const now = (await as.client.public.getBlock()).timestamp
    channel = { id: await openChannel(as.client, deployment, { provider: as[name].account.address, amount: parseEther('1'), expiry: now + 7n * 86_400n }), signed: 0n }
    channels.set(name, channel)
  }
  channel.signed += costOf(Buffer.byteLength(prompt) + TOKENS, PRICE)
  const voucher = voucherToJson(await signVoucher(as.client.account, deployment, channel.id, channel.signed))
  return requestInference(clientNet, served[name].address, { prompt, tokens: TOKENS, voucher })
}

/** Lets the providers answer while the client plays: each look of the client is one look of every defence. */
const defend = async (): Promise<void> => { for (const s of Object.values(served)) await s.provider.defend() }

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-gendefence-'))
  devnet = await startDevnet({ home: root })
  const names = ['deployer', 'honest', 'liar', 'client', 'restarted', 'other', 'scorer', 'serial', 'stranger', 'liar2']
  for (const [i, name] of names.entries()) as[name] = await connect(devnet.rpcUrl, devnetAccount(i))
  deployment = await deploy(as.deployer)
  for (const name of names.slice(1)) await transferTokens(as.deployer, deployment, as[name].account.address, parseEther('500'))
  dir = join(root, 'run')
  await writeTinyRun(dir, 5)
  model = await loadServedModel(dir)
  programs = new ForwardPrograms(ctx, model.recipe)
  replay = await replayModelOf(dir, model.recipe, ctx)
  await serve('honest')
  await serve('liar', { request: 0, token: 3 })
  clientNet = await network('client-net')
})

after(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => {})
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

describe('generation disputes played by the nodes', () => {
  it('binds the forward programs of each service at registration (the deployment has InferenceDisputes)', async () => {
    const [bound, count] = await as.client.public.readContract({ address: generationGame(deployment), abi: (await import('@commons/chain')).inferenceDisputesAbi, functionName: 'programsOf', args: [served.honest.service] })
    assert.equal(bound, programs.root())
    assert.equal(count, model.recipe.model.context)
    assert.equal(await ensureServicePrograms(as.honest, deployment, served.honest.service, programs), programs.root(), 'binding again is a no-op')
  })

  it('leaves an honest provider alone: every paid answer replays, nothing is disputed', async () => {
    for (const prompt of ['a receipt is a claim', 'hello']) {
      const answer = await ask('honest', prompt)
      assert.equal(answer.receipt.service, String(served.honest.service), 'the receipt names the service')
      const check = await checkAnswer({ clients: as.client, deployment }, replay, signedAnswer(answer.receipt, model.encode(prompt), answer.outputTokens))
      assert.equal(check.wrongToken, -1)
      assert.equal(check.dispute, undefined)
    }
    assert.equal((await readService(as.client, deployment, served.honest.service)).stake, parseEther('40'))
  })

  it('disputes the lying provider\'s wrong token to the end; its node answers and loses its stake', async () => {
    const prompt = 'a receipt is a claim'
    const answer = await ask('liar', prompt)
    const signed = signedAnswer(answer.receipt, model.encode(prompt), answer.outputTokens)
    const challenger = new GenerationChallenger(as.client, deployment, generationGame(deployment), ctx, programs, replay.weights)
    assert.equal(challenger.firstWrongToken(signed), 3, 'the replay finds the lie')
    const { id, move } = await challenger.open(signed)
    const moves = [move]
    let outcome
    for (let i = 0; i < 10 && outcome?.winner == null; i++) {
      await defend()
      outcome = await playGenerationDispute(challenger, id, moves, { timeoutMs: 0 })
    }
    assert.equal(outcome?.winner, 'challenger', JSON.stringify(outcome, (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v))
    assert.equal(outcome?.reason, 'mismatch', 'its own honest trace picks another token than it signed')
    assert.ok((outcome?.maxGas ?? 0n) <= 5_000_000n)
    assert.equal((await readService(as.client, deployment, served.liar.service)).stake, 0n, 'slashed')
  })

  it('refunds the paying client when a stranger convicts the liar: the challenger takes no refund, and one receipt refunds once', async () => {
    await serve('liar2', { request: 0, token: 2 })
    const prompt = 'a receipt is a claim'
    const answer = await ask('liar2', prompt)
    const signed = signedAnswer(answer.receipt, model.encode(prompt), answer.outputTokens)
    const cost = BigInt(answer.receipt.cost)
    assert.ok(cost > 0n)
    const clientBefore = await tokenBalance(as.client, deployment, as.client.account.address)
    const strangerBefore = await tokenBalance(as.client, deployment, as.stranger.account.address)
    const challenger = new GenerationChallenger(as.stranger, deployment, generationGame(deployment), ctx, programs, replay.weights)
    const first = await challenger.open(signed)
    const second = await challenger.open(signed) // the same receipt, disputed twice
    for (const { id, move } of [first, second]) {
      const moves = [move]
      let outcome
      for (let i = 0; i < 10 && outcome?.winner == null; i++) {
        await defend()
        outcome = await playGenerationDispute(challenger, id, moves, { timeoutMs: 0 })
      }
      assert.equal(outcome?.winner, 'challenger')
    }
    assert.equal((await readService(as.client, deployment, served.liar2.service)).stake, 0n, 'slashed')
    assert.equal(await tokenBalance(as.client, deployment, as.client.account.address), clientBefore + cost, 'the client gets the answer\'s cost back, once')
    const share = (parseEther('40') - cost) / 2n
    assert.equal(await tokenBalance(as.client, deployment, as.stranger.account.address), strangerBefore + share, 'the stranger: its bonds back and half the rest of the stake, no refund')
  })

  it('defends a dispute opened through another contract: the claim is read from the GenerationClaim log, not from calldata', async () => {
    // A relay contract (as a multisig or a DAO would) opens a bogus dispute of an honest answer.
    const artifact = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', '..', 'contracts', 'out', 'CallRelay.sol', 'CallRelay.json'), 'utf8')) as { abi: Abi, bytecode: { object: Hex } }
    const relay = (await deployOne(as.other, artifact.abi, artifact.bytecode.object, [])).address
    const game = generationGame(deployment)
    const bond = await as.other.public.readContract({ address: game, abi: inferenceDisputesAbi, functionName: 'bond' })
    const through = async (address: Hex, data: Hex): Promise<void> => { await send(as.other, { address: relay, abi: artifact.abi, functionName: 'call', args: [address, data] }) }
    await transferTokens(as.other, deployment, relay, bond)
    await through(deployment.contracts.token, encodeFunctionData({ abi: commonsTokenAbi, functionName: 'approve', args: [game, bond] }))
    const prompt = 'opened by a contract'
    const answer = await ask('honest', prompt)
    const challenger = new GenerationChallenger(as.other, deployment, game, ctx, programs, replay.weights)
    const claim = challenger.claimOf(signedAnswer(answer.receipt, model.encode(prompt), answer.outputTokens), 1)
    const before = await as.other.public.readContract({ address: game, abi: inferenceDisputesAbi, functionName: 'disputeCount' })
    await through(game, encodeFunctionData({ abi: inferenceDisputesAbi, functionName: 'open', args: [claim] }))
    const id = before
    const opened = await readGenerationDispute(as.other, game, id)
    assert.equal(opened.challenger.toLowerCase(), relay.toLowerCase(), 'the relay opened it')
    await defend()
    const defended = await readGenerationDispute(as.other, game, id)
    assert.equal(defended.phaseName, 'await-pinpoint', 'the provider posted its trace')
    assert.equal((await readService(as.client, deployment, served.honest.service)).stake, parseEther('40'))
  })

  it('a provider restarted mid-dispute defends from the chain alone, and wins a bogus dispute by the challenger\'s timeout', async () => {
    await serve('restarted')
    const prompt = 'hello'
    const answer = await ask('restarted', prompt)
    const signed = signedAnswer(answer.receipt, model.encode(prompt), answer.outputTokens)
    const challenger = new GenerationChallenger(as.client, deployment, generationGame(deployment), ctx, programs, replay.weights)
    const { id } = await challenger.open(signed, 2) // a token the replay agrees with
    await served.restarted.provider.stop() // down before it saw the dispute
    const state = await servedStateOf(dir, model.recipe, model.root, ctx)
    const fresh = startGenerationDefence({ clients: as.restarted, deployment }, { state, services: () => [served.restarted.service], pollMs: 0 })
    try {
      const moves = await fresh.tick()
      assert.deepEqual(moves.map(m => m.name), ['postTrace'], 'the restarted node posts the trace of the disputed window')
      assert.equal(await challenger.advance(id), null, 'the trace agrees with the replay: nothing to pinpoint')
      await advanceTime(devnet.rpcUrl, 3601)
      assert.deepEqual((await fresh.tick()).map(m => m.name), ['timeout'])
      const d = await readGenerationDispute(as.client, generationGame(deployment), id)
      assert.equal(d.winner, 'provider')
      assert.equal(d.reasonName, 'pinpoint-timeout')
      assert.equal((await readService(as.client, deployment, served.restarted.service)).stake, parseEther('40'), 'the honest provider keeps its stake')
    } finally {
      await fresh.stop()
    }
  })

  /** A greedy receipt of service `name` for `output`, signed by its provider as its node signs them. */
  async function receiptFor (name: string, prompt: string, output: number[]) {
    const unsigned = {
      provider: as[name].account.address, service: String(served[name].service), issuedAt: Number((await as.client.public.getBlock()).timestamp), modelRoot: model.root,
      promptHash: tokensHash(model.encode(prompt)), params: { tokens: output.length, seed: null, temperature: 1, topK: null, topP: null }, outputHash: tokensHash(output),
      pricePer1k: String(PRICE), cost: '1', channel: `0x${'00'.repeat(32)}` as Hex, cumulative: '1', spent: '1'
    }
    return signedAnswer(await signReceipt(as[name].account, deployment, unsigned), model.encode(prompt), output)
  }

  it('slashes a provider that answers a greedy request with tokens sampled under a seed: its own trace picks otherwise', async () => {
    await serve('other')
    const prompt = 'a seed is not greedy'
    let output: number[] = []
    for (let seed = 1; seed < 20; seed++) {
      output = (await generate(ctx, dir, prompt, { tokens: TOKENS, seed, temperature: 1 })).tokens
      if (output.join() !== (await generate(ctx, dir, prompt, { tokens: TOKENS })).tokens.join()) break
    }
    const outcome = await checkAnswer({ clients: as.client, deployment }, replay, await receiptFor('other', prompt, output), { pollMs: 50, timeoutMs: 0 })
    assert.ok(outcome.wrongToken >= 0 && outcome.dispute !== undefined)
    for (let i = 0; i < 10 && outcome.dispute.winner === null; i++) {
      await defend()
      const challenger = new GenerationChallenger(as.client, deployment, generationGame(deployment), ctx, programs, replay.weights)
      outcome.dispute = await playGenerationDispute(challenger, outcome.dispute.id, outcome.dispute.moves, { timeoutMs: 0 })
    }
    assert.equal(outcome.dispute.winner, 'challenger')
    assert.equal((await readService(as.client, deployment, served.other.service)).stake, 0n)
  })

  it('slashes a provider that serves another model under the registered root: it cannot post a trace and loses by timeout', async () => {
    const otherDir = join(root, 'other-run')
    await writeTinyRun(otherDir, 6)
    const otherModel = await loadServedModel(otherDir)
    await registerAndStake(as.deployer, deployment, { peerId: '0x03', roles: [], amount: parseEther('50') })
    // The deployer's service registers the run's root; its node defends with the other run's checkpoint.
    const service = await registerService(as.deployer, deployment, { modelRoot: model.root, modelCid: '0x01', pricePer1k: PRICE, endpoint: 'x', stake: parseEther('40') })
    await ensureServicePrograms(as.deployer, deployment, service, programs)
    const prompt = 'another model'
    const output = (await generate(ctx, otherDir, prompt, { tokens: TOKENS })).tokens
    const unsigned = {
      provider: as.deployer.account.address, service: String(service), issuedAt: Number((await as.client.public.getBlock()).timestamp), modelRoot: model.root,
      promptHash: tokensHash(otherModel.encode(prompt)), params: { tokens: output.length, seed: null, temperature: 1, topK: null, topP: null }, outputHash: tokensHash(output),
      pricePer1k: String(PRICE), cost: '1', channel: `0x${'00'.repeat(32)}` as Hex, cumulative: '1', spent: '1'
    }
    const answer = signedAnswer(await signReceipt(as.deployer.account, deployment, unsigned), model.encode(prompt), output)
    const lies: string[] = []
    const defence = startGenerationDefence({ clients: as.deployer, deployment }, {
      state: { ...(await servedStateOf(otherDir, otherModel.recipe, otherModel.root, ctx)) }, services: () => [service], pollMs: 0, log: line => lies.push(line)
    })
    try {
      const outcome = await checkAnswer({ clients: as.client, deployment }, replay, answer, { timeoutMs: 0 })
      assert.ok(outcome.dispute !== undefined, 'the replay finds a wrong token')
      assert.deepEqual(await defence.tick(), [], 'its slot roots do not rebuild the registered root: postTrace reverts')
      assert.equal((await readGenerationDispute(as.client, generationGame(deployment), outcome.dispute.id)).phaseName, 'await-trace', lies.join('\n'))
      await advanceTime(devnet.rpcUrl, 3601)
      const challenger = new GenerationChallenger(as.client, deployment, generationGame(deployment), ctx, programs, replay.weights)
      const end = await playGenerationDispute(challenger, outcome.dispute.id, [], { timeoutMs: 0 })
      const done = end.winner === null ? await playGenerationDispute(challenger, outcome.dispute.id, [], { timeoutMs: 5_000 }) : end
      assert.equal(done.winner, 'challenger')
      assert.equal(done.reason, 'trace-timeout')
      assert.equal((await readService(as.client, deployment, service)).stake, 0n)
    } finally {
      await defence.stop()
    }
  })

  it('plays the whole game against a provider whose forward departs mid-program: values asked for on-chain, pinpointed, revealed, slashed', async (t) => {
    const prompt = [...Buffer.from('values on chain')]
    // A lie in an early op (not the pick) that changes the answer: the game must walk to it.
    const lie = earlyLie(ctx, model.recipe, replay.weights, prompt, programs.of(prompt.length).ops.length)
    assert.ok(lie !== undefined, 'some early op changes the answer')
    const { fault, output } = lie
    await registerAndStake(as.honest, deployment, { peerId: '0x04', roles: [], amount: parseEther('50') })
    const service = await registerService(as.honest, deployment, { modelRoot: model.root, modelCid: '0x01', pricePer1k: PRICE, endpoint: 'y', stake: parseEther('40') })
    await ensureServicePrograms(as.honest, deployment, service, programs)
    const unsigned = {
      provider: as.honest.account.address, service: String(service), issuedAt: Number((await as.client.public.getBlock()).timestamp), modelRoot: model.root,
      promptHash: tokensHash(prompt), params: { tokens: output.length, seed: null, temperature: 1, topK: null, topP: null }, outputHash: tokensHash(output),
      pricePer1k: String(PRICE), cost: '1', channel: `0x${'00'.repeat(32)}` as Hex, cumulative: '1', spent: '1'
    }
    const answer = signedAnswer(await signReceipt(as.honest.account, deployment, unsigned), prompt, output)
    const defence = startGenerationDefence({ clients: as.honest, deployment }, { state: { ...(await servedStateOf(dir, model.recipe, model.root, ctx)), fault }, services: () => [service], pollMs: 0 })
    try {
      const outcome = await checkAnswer({ clients: as.client, deployment }, replay, answer, { timeoutMs: 0 })
      assert.ok(outcome.dispute !== undefined)
      const challenger = new GenerationChallenger(as.client, deployment, generationGame(deployment), ctx, programs, replay.weights)
      const moves = [...outcome.dispute.moves]
      let end = outcome.dispute
      for (let i = 0; i < 40 && end.winner === null; i++) {
        await defence.tick()
        end = await playGenerationDispute(challenger, end.id, moves, { timeoutMs: 0 })
      }
      assert.equal(end.winner, 'challenger', `moves ${moves.map(m => m.name).join(', ')}; dispute ${JSON.stringify(end, (_, v: unknown) => typeof v === 'bigint' ? String(v) : v)}`)
      assert.equal(end.reason, 'mismatch')
      const names = moves.map(m => m.name)
      assert.ok(names.includes('requestValues') && names.includes('pinpoint'), names.join(', '))
      t.diagnostic(`fault ${JSON.stringify(fault)}; challenger's moves: ${moves.map(m => `${m.name} ${m.gas}`).join(', ')}; ${end.played} moves in all`)
      assert.ok(end.maxGas <= 5_000_000n, `the heaviest move of the challenger: ${end.maxGas} gas`)
      assert.equal((await readService(as.client, deployment, service)).stake, 0n)
    } finally {
      await defence.stop()
    }
  })

  it('a scorer disputes the wrong greedy answers its probes find (the node option that checks a sample of answers)', async () => {
    await serve('serial', { request: 0, every: true })
    await registerAndStake(as.scorer, deployment, { peerId: '0x05', roles: ['validator'], amount: parseEther('100') })
    const said: string[] = []
    const scorer = startScorer({ clients: as.scorer, deployment, network: await network('scorer-net'), engine: ctx }, {
      references: [model], probesPerService: 1, tokensPerProbe: TOKENS, pollMs: 0, dispute: true, sampledShare: 0, probeTimeoutMs: 5_000, log: line => said.push(line)
    })
    try {
      const outcomes = await scorer.probeAll()
      assert.equal(outcomes.filter(o => o.verdict === 'wrong-tokens').length, 1, `only the lying service answers wrong: ${said.join('\n')}`)
      // The scorer plays its dispute in the background; the serial liar's node answers its side.
      let checks = scorer.disputes()
      for (let i = 0; i < 40 && (await Promise.race([checks, new Promise(resolve => setTimeout(() => resolve(null), 100))])) === null; i++) await defend()
      checks = scorer.disputes()
      const [check] = await checks
      assert.equal(check?.dispute?.winner, 'challenger', said.join('\n'))
      assert.equal((await readService(as.client, deployment, served.serial.service)).stake, 0n)
    } finally {
      await scorer.stop()
    }
  })
})
