import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEther, type Address, type Hex } from 'viem'
import {
  answerWindow, connect, deploy, inferenceDisputesAbi, generationGame, devnetAccount, ForwardPrograms, GenerationChallenger, GenerationDefender, readGenerationDispute,
  readService, registerAndStake, registerService, setServicePrograms, tokenBalance, transferTokens,
  type Clients, type Deployment, type Devnet, type GenerationMove, type ServedState, type SignedAnswer
} from '@commons/chain'
import { startCappedDevnet } from './testing/cappedDevnet.ts'
import { initParams, readRecipe, referenceContext, traceForward, Tensor, type Fault, type Recipe } from '@commons/engine'
import { random32, stateRoot, toHex } from '@commons/protocol'
import { receiptMessage, signReceipt, tokensHash } from './receipt.ts'

/**
 * A generated answer disputed on a real anvil with the node's own receipts: the
 * challenger replays the answer, opens at the first wrong token, and the pinpoint game
 * runs on that token's forward program (InferenceDisputes). A provider serving the model
 * with one corrupted weight, or claiming another token than its pick, is slashed; an
 * honest provider disputed anyway keeps its stake and takes the bond.
 */

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const ctx = referenceContext()
const tiny = await readRecipe(join(repo, 'recipes/tiny.json'))
const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } }
// Larger than the init's 0.02 so the logits spread and the greedy text varies.
const weights = initParams(recipe.model, 5).map(t => new Tensor(t.shape, t.f32.map(x => x * 40)))
const slots = [...weights, ...weights.map(t => new Tensor(t.shape, new Float32Array(t.size))), ...weights.map(t => new Tensor(t.shape, new Float32Array(t.size)))]
const STEP = 9
const modelRoot = toHex(stateRoot(slots, STEP))
const programs = new ForwardPrograms(ctx, recipe)
const prompt = [...Buffer.from('a receipt is a claim ')]

let home: string
let devnet: Devnet
let deployment: Deployment
let game: Address
const as: Record<string, Clients> = {}
const serviceOf: Record<string, bigint> = {}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-gendispute-'))
  devnet = await startCappedDevnet({ home })
  for (const [i, name] of ['deployer', 'honest', 'liar', 'client', 'picker', 'sweeper'].entries()) as[name] = await connect(devnet.rpcUrl, devnetAccount(i))
  deployment = await deploy(as.deployer)
  game = generationGame(deployment)
  for (const name of ['honest', 'liar', 'client', 'picker', 'sweeper']) await transferTokens(as.deployer, deployment, as[name].account.address, parseEther('1000'))
  for (const name of ['honest', 'liar', 'picker']) {
    await registerAndStake(as[name], deployment, { peerId: toHex(Buffer.from(name)), roles: [], amount: parseEther('100') })
    serviceOf[name] = await registerService(as[name], deployment, { modelRoot, modelCid: '0x01', pricePer1k: parseEther('1'), endpoint: name, stake: parseEther('40') })
    await setServicePrograms(as[name], game, serviceOf[name], programs)
  }
})

after(async () => {
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

/** Greedy continuation of the prompt by `params` (with a fault in every forward, if any). */
function answer (params: readonly Tensor[], n: number, fault?: Fault): number[] {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(traceForward(ctx, recipe, params, answerWindow({ prompt, output: out }, i, recipe.model.context), { fault }).token)
  return out
}

/** The provider's signed receipt for `output`, as its node signs it, in the form the contract reads. */
async function signed (name: string, output: number[]): Promise<SignedAnswer> {
  const unsigned = {
    provider: as[name].account.address, service: String(serviceOf[name]), issuedAt: Math.floor(Date.now() / 1000), modelRoot, promptHash: tokensHash(prompt), params: { tokens: output.length, seed: null, temperature: 1, topK: null, topP: null },
    outputHash: tokensHash(output), pricePer1k: parseEther('1').toString(), cost: '1', channel: `0x${'00'.repeat(32)}` as Hex, cumulative: '1', spent: '1'
  }
  const receipt = await signReceipt(as[name].account, deployment, unsigned)
  return { service: serviceOf[name], receipt: receiptMessage(unsigned), signature: receipt.signature, prompt, output }
}

/** open, postTrace, pinpoint, reveal: the outcome, and the heaviest move. */
async function play (challenger: GenerationChallenger, defender: GenerationDefender, a: SignedAnswer, options: { index?: number, choice?: { op: number, element: number } } = {}) {
  const { id, move: open } = await challenger.open(a, options.index)
  const index = options.index ?? challenger.firstWrongToken(a)
  const moves: GenerationMove[] = [open, await defender.postTrace(id, answerWindow(a, index, recipe.model.context))]
  const d = await readGenerationDispute(as.client, game, id)
  if (d.winner === null) {
    moves.push(await challenger.pinpoint(id, async op => defender.output(id, op), options.choice))
    moves.push(await defender.reveal(id))
  }
  const done = await readGenerationDispute(as.client, game, id)
  return { winner: done.winner, reason: done.reasonName, moves, maxGas: moves.reduce((m, x) => x.gas > m ? x.gas : m, 0n) }
}

const challenger = (): GenerationChallenger => new GenerationChallenger(as.client, deployment, game, ctx, programs, weights)
const served = (extra: Partial<ServedState> = {}): ServedState => ({ engine: ctx, recipe, slots, step: STEP, ...extra })

describe('a generated answer disputed on-chain', () => {
  it('leaves an honest provider its stake and gives it the bond of a challenger who disputes anyway', async () => {
    const a = await signed('honest', answer(weights, 6))
    const c = challenger()
    assert.equal(c.firstWrongToken(a), -1, 'the replay gives every token')
    const before = await tokenBalance(as.client, deployment, as.honest.account.address)
    const lastOp = programs.of(answerWindow(a, 3, recipe.model.context).length).ops.length - 1
    const outcome = await play(c, new GenerationDefender(as.honest, game, served()), a, { index: 3, choice: { op: lastOp, element: 0 } })
    assert.equal(outcome.winner, 'provider')
    assert.equal(outcome.reason, 'match')
    const bond = await as.client.public.readContract({ address: game, abi: inferenceDisputesAbi, functionName: 'bond' })
    assert.equal(await tokenBalance(as.client, deployment, as.honest.account.address) - before, bond)
    assert.equal((await readService(as.client, deployment, serviceOf.honest)).stake, parseEther('40'))
  })

  it('slashes a provider that serves the model with one corrupted weight: the first op that reads it departs', async (t) => {
    const head = weights.length - 1 // [dModel, vocab]
    const honest = answer(weights, 6)
    let corrupted: Tensor[] | undefined
    let output: number[] = []
    // One value of the head, large enough to move the pick: a column gets a huge weight on one feature.
    for (const value of [1e4, -1e4]) {
      const w = weights.map(t => new Tensor(t.shape, t.f32.slice()))
      w[head].f32[(honest[0] + 1) % recipe.model.vocab] = value
      output = answer(w, 6)
      if (output.join() !== honest.join()) { corrupted = w; break }
    }
    assert.ok(corrupted !== undefined, 'the corruption changes the answer')
    const a = await signed('liar', output)
    const c = challenger()
    assert.notEqual(c.firstWrongToken(a), -1)
    const clientBefore = await tokenBalance(as.client, deployment, as.client.account.address)
    const outcome = await play(c, new GenerationDefender(as.liar, game, served({ served: corrupted })), a)
    assert.equal(outcome.winner, 'challenger')
    assert.equal(outcome.reason, 'mismatch')
    assert.equal(outcome.moves.length, 4, 'open and three moves')
    assert.ok(outcome.maxGas < 5_000_000n, `heaviest move ${outcome.maxGas} gas`)
    t.diagnostic(`gas: ${outcome.moves.map(m => `${m.name} ${m.gas}`).join(', ')}`)
    assert.equal((await readService(as.client, deployment, serviceOf.liar)).stake, 0n, 'the service stake is slashed')
    // The bond came back and half the stake (the StakeRegistry's beneficiary share) was paid.
    assert.equal(await tokenBalance(as.client, deployment, as.client.account.address) - clientBefore, parseEther('20'))
  })

  it('slashes a provider that answers another token than its forward picks: the ARGMAX departs', async (t) => {
    // The pick is the last op of the window's program; its fault flips the token's lowest bit.
    const fault = { op: programs.of(prompt.length).ops.length - 1, element: 0 }
    const output = answer(weights, 1, fault)
    assert.notEqual(output[0], answer(weights, 1)[0])
    const a = await signed('picker', output)
    const c = challenger()
    assert.equal(c.firstWrongToken(a), 0)
    const outcome = await play(c, new GenerationDefender(as.picker, game, served({ fault })), a)
    assert.equal(outcome.winner, 'challenger')
    assert.equal(outcome.reason, 'mismatch')
    t.diagnostic(`gas: ${outcome.moves.map(m => `${m.name} ${m.gas}`).join(', ')}`)
    assert.equal((await readService(as.client, deployment, serviceOf.picker)).stake, 0n, 'the service stake is slashed')
  })

  it('slashes every one of 20 lies drawn at random (op, element; the first wrong token wherever it falls)', async () => {
    const window = answerWindow({ prompt, output: [] }, 0, recipe.model.context)
    const sizes = traceForward(ctx, recipe, weights, window).outputs.map(o => o.size)
    const honest = answer(weights, 3).join()
    await registerAndStake(as.sweeper, deployment, { peerId: toHex(Buffer.from('sweeper')), roles: [], amount: parseEther('300') })
    const outcomes: string[] = []
    for (let draw = 0; outcomes.length < 20 && draw < 2000; draw++) {
      const op = random32(14, 1, draw) % sizes.length
      const fault = { op, element: random32(14, 2, draw) % sizes[op] }
      const output = answer(weights, 3, fault)
      if (output.join() === honest) continue // a lie nobody can see: the answer is right
      const service = await registerService(as.sweeper, deployment, { modelRoot, modelCid: '0x01', pricePer1k: parseEther('1'), endpoint: `sweep-${draw}`, stake: parseEther('10') })
      await setServicePrograms(as.sweeper, game, service, programs)
      serviceOf.sweeper = service
      const outcome = await play(challenger(), new GenerationDefender(as.sweeper, game, served({ fault })), await signed('sweeper', output))
      assert.equal(outcome.winner, 'challenger', `lie at op ${fault.op} element ${fault.element}`)
      assert.equal((await readService(as.client, deployment, service)).stake, 0n)
      outcomes.push(`${fault.op}:${fault.element}`)
    }
    assert.equal(outcomes.length, 20, `found ${outcomes.length} lies that change the answer`)
  })
})
