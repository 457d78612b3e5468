import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEther, type Address, type Hex } from 'viem'
import {
  answerWindow, connect, deploy, devnetAccount, ForwardPrograms, generationGame, GenerationChallenger, GenerationDefender, inferenceDisputesAbi,
  readGenerationDispute, readService, registerAndStake, registerService, setServicePrograms, tokenBalance, transferTokens,
  type Clients, type Deployment, type Devnet, type GenerationMove, type ServedState, type SignedAnswer
} from '@commons/chain'
import { startCappedDevnet } from './testing/cappedDevnet.ts'
import { initParams, readRecipe, referenceContext, samplingWords, traceForward, Tensor, type Fault, type Recipe, type SampledPick } from '@commons/engine'
import { random32, stateRoot, toHex } from '@commons/protocol'
import { receiptMessage, signReceipt, tokensHash, type SamplingParams } from './receipt.ts'

/**
 * A sampled answer (seed, temperature, top-k, top-p) disputed on a real anvil with the
 * node's own receipts, as generationDispute.test.ts does for greedy ones: the forward
 * program of the first wrong token ends in the sampling ops, checked one element at a
 * time. A provider that samples under another seed than its receipt's, or corrupts one
 * value anywhere (the sampling ops included), is slashed; an honest one keeps its stake.
 */

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const ctx = referenceContext()
const tiny = await readRecipe(join(repo, 'recipes/tiny.json'))
const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } }
// Larger than the init's 0.02: logits span hundreds, so a temperature of tens samples widely.
const weights = initParams(recipe.model, 5).map(t => new Tensor(t.shape, t.f32.map(x => x * 40)))
const slots = [...weights, ...weights.map(t => new Tensor(t.shape, new Float32Array(t.size))), ...weights.map(t => new Tensor(t.shape, new Float32Array(t.size)))]
const STEP = 9
const modelRoot = toHex(stateRoot(slots, STEP))
const programs = new ForwardPrograms(ctx, recipe)
const prompt = [...Buffer.from('a sampled claim ')]
const PARAMS: SamplingParams = { tokens: 4, seed: 7, temperature: 60, topK: 40, topP: 0.95 }

let home: string
let devnet: Devnet
let deployment: Deployment
let game: Address
const as: Record<string, Clients> = {}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-sampled-dispute-'))
  devnet = await startCappedDevnet({ home })
  for (const [i, name] of ['deployer', 'provider', 'client'].entries()) as[name] = await connect(devnet.rpcUrl, devnetAccount(i))
  deployment = await deploy(as.deployer)
  game = generationGame(deployment) // deploy() wires it to the ForwardVerifier: sampled answers are disputable
  for (const name of ['provider', 'client']) await transferTokens(as.deployer, deployment, as[name].account.address, parseEther('1000'))
  await registerAndStake(as.provider, deployment, { peerId: toHex(Buffer.from('provider')), roles: [], amount: parseEther('500') })
})

after(async () => {
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

/** How token i is picked under `params` (seed and words as the receipt signs them). */
const pick = (params: SamplingParams, i: number): SampledPick =>
  ({ seed: params.seed ?? 0, index: i, words: samplingWords({ temperature: params.temperature, topK: params.topK ?? undefined, topP: params.topP ?? undefined }) })

/** The provider's sampled continuation of the prompt under `params` (with a fault in every forward, if any). */
function answer (params: SamplingParams, fault?: Fault, served: readonly Tensor[] = weights): number[] {
  const out: number[] = []
  for (let i = 0; i < params.tokens; i++) out.push(traceForward(ctx, recipe, served, answerWindow({ prompt, output: out }, i, recipe.model.context), { fault, sampling: pick(params, i) }).token)
  return out
}

/** A fresh service of the provider, its programs bound, and its signed receipt for `output` under PARAMS. */
async function signed (output: number[]): Promise<SignedAnswer> {
  const service = await registerService(as.provider, deployment, { modelRoot, modelCid: '0x01', pricePer1k: parseEther('1'), endpoint: `p-${output.join('.')}-${Math.random()}`, stake: parseEther('10') })
  await setServicePrograms(as.provider, game, service, programs)
  const unsigned = {
    provider: as.provider.account.address, service: String(service), issuedAt: Math.floor(Date.now() / 1000), modelRoot, promptHash: tokensHash(prompt), params: PARAMS,
    outputHash: tokensHash(output), pricePer1k: parseEther('1').toString(), cost: '1', channel: `0x${'00'.repeat(32)}` as Hex, cumulative: '1', spent: '1'
  }
  const receipt = await signReceipt(as.provider.account, deployment, unsigned)
  return { service, receipt: receiptMessage(unsigned), signature: receipt.signature, prompt, output }
}

/** open, postTrace (the provider's own trace, sampled as it really sampled), pinpoint, reveal. */
async function play (a: SignedAnswer, provider: { params: SamplingParams, fault?: Fault, served?: readonly Tensor[] }, options: { index?: number, choice?: { op: number, element: number } } = {}) {
  const challenger = new GenerationChallenger(as.client, deployment, game, ctx, programs, weights)
  const defender = new GenerationDefender(as.provider, game, { engine: ctx, recipe, slots, step: STEP, fault: provider.fault, served: provider.served } satisfies ServedState)
  const { id, move: open } = await challenger.open(a, options.index)
  const index = options.index ?? challenger.firstWrongToken(a)
  const moves: GenerationMove[] = [open, await defender.postTrace(id, answerWindow(a, index, recipe.model.context), pick(provider.params, index))]
  if ((await readGenerationDispute(as.client, game, id)).winner === null) {
    const p = await challenger.pinpoint(id, async op => defender.output(id, op), options.choice)
    moves.push(p, await defender.reveal(id))
  }
  const done = await readGenerationDispute(as.client, game, id)
  return { winner: done.winner, reason: done.reasonName, op: done.opIndex, moves, maxGas: moves.reduce((m, x) => x.gas > m ? x.gas : m, 0n) }
}

describe('a sampled answer disputed on-chain', () => {
  const honest = answer(PARAMS)
  const greedy = answer({ ...PARAMS, seed: null })

  it('replays an honest sampled answer, and leaves its provider the stake and the bond of a bogus dispute', async () => {
    assert.notDeepEqual(honest, greedy, 'the answer is sampled, not greedy')
    const a = await signed(honest)
    const challenger = new GenerationChallenger(as.client, deployment, game, ctx, programs, weights)
    assert.equal(challenger.firstWrongToken(a), -1, 'the replay under the receipt\'s seed gives every token')
    const before = await tokenBalance(as.client, deployment, as.provider.account.address)
    const lastOp = programs.of(answerWindow(a, 2, recipe.model.context).length, true).ops.length - 1
    const outcome = await play(a, { params: PARAMS }, { index: 2, choice: { op: lastOp, element: 0 } })
    assert.equal(outcome.winner, 'provider')
    assert.equal(outcome.reason, 'match')
    const bond = await as.client.public.readContract({ address: game, abi: inferenceDisputesAbi, functionName: 'bond' })
    assert.equal(await tokenBalance(as.client, deployment, as.provider.account.address) - before, bond)
    assert.equal((await readService(as.client, deployment, a.service)).stake, parseEther('10'))
  })

  it('slashes a provider that sampled under another seed than its receipt\'s: UNIFORM_AT departs', async (t) => {
    const other = { ...PARAMS, seed: 8 }
    const output = answer(other)
    assert.notDeepEqual(output, honest, 'another seed, another answer')
    const a = await signed(output)
    const outcome = await play(a, { params: other })
    assert.equal(outcome.winner, 'challenger')
    assert.equal(outcome.reason, 'mismatch')
    const uniformAt = programs.of(answerWindow(a, 0, recipe.model.context).length, true).ops.length - 2
    assert.equal(outcome.op, uniformAt, 'the first op that departs is the uniform of the receipt\'s seed')
    assert.ok(outcome.maxGas < 5_000_000n, `heaviest move ${outcome.maxGas} gas`)
    t.diagnostic(`gas: ${outcome.moves.map(m => `${m.name} ${m.gas}`).join(', ')}`)
    assert.equal((await readService(as.client, deployment, a.service)).stake, 0n, 'the service stake is slashed')
  })

  /** Weights with one head weight corrupted so that the sampled answer changes, and that answer. */
  function corrupted (): { served: Tensor[], output: number[] } {
    const head = weights.length - 1 // [dModel, vocab]
    for (const column of [honest[0], (honest[0] + 1) % recipe.model.vocab]) {
      const w = weights.map(t => new Tensor(t.shape, t.f32.slice()))
      w[head].f32[column] = w[head].f32[column] + 1e4 * Math.sign(column - honest[0] - 0.5)
      const output = answer(PARAMS, undefined, w)
      if (output.join() !== honest.join()) return { served: w, output }
    }
    assert.fail('the corruption changes the answer')
  }

  it('slashes a provider that serves the model with one corrupted weight: the first op that reads it departs', async () => {
    const { served, output } = corrupted()
    const a = await signed(output)
    const outcome = await play(a, { params: PARAMS, served })
    assert.equal(outcome.winner, 'challenger')
    assert.equal(outcome.reason, 'mismatch')
    assert.ok(outcome.op < programs.of(answerWindow(a, 0, recipe.model.context).length).ops.length - 1, 'a forward op departs, before the pick')
    assert.equal((await readService(as.client, deployment, a.service)).stake, 0n, 'the service stake is slashed')
  })

  it('plays a sampled dispute from the chain alone: a fresh provider posts the sampled trace, values rounds lead to the pinpoint', async () => {
    const { served, output } = corrupted()
    const a = await signed(output)
    const { id, move } = await new GenerationChallenger(as.client, deployment, game, ctx, programs, weights).open(a)
    // Both sides restarted after the open: each reads the window, seed and sampling words
    // back from the open's calldata (a greedy trace would have fewer ops: TraceLength).
    const challenger = new GenerationChallenger(as.client, deployment, game, ctx, programs, weights)
    const defender = new GenerationDefender(as.provider, game, { engine: ctx, recipe, slots, step: STEP, served } satisfies ServedState, BigInt(deployment.block))
    const moves: GenerationMove[] = [move]
    for (let i = 0; i < 40 && (await readGenerationDispute(as.client, game, id)).winner === null; i++) {
      const next = await defender.advance(id) ?? await challenger.advance(id)
      if (next === null) break
      moves.push(next)
    }
    const done = await readGenerationDispute(as.client, game, id)
    const names = moves.map(m => m.name)
    assert.equal(done.winner, 'challenger', names.join(' '))
    assert.equal(done.reasonName, 'mismatch')
    assert.ok(names.includes('requestValues') && names.includes('provideValues'), `values rounds instead of the provider's published output (${names.join(' ')})`)
    assert.deepEqual(names.slice(-2), ['pinpoint', 'reveal'])
    assert.ok(moves.every(m => m.gas < 5_000_000n), 'every move under 5M gas')
    assert.equal((await readService(as.client, deployment, a.service)).stake, 0n, 'the service stake is slashed')
  })

  it('slashes every one of 12 corrupted values drawn at random that change the answer (every other draw in the sampling ops)', async (t) => {
    const window = answerWindow({ prompt, output: [] }, 0, recipe.model.context)
    const sizes = traceForward(ctx, recipe, weights, window, { sampling: pick(PARAMS, 0) }).outputs.map(o => o.size)
    const tail = programs.of(window.length, true).ops.length - programs.of(window.length).ops.length + 1
    const caught: string[] = []
    let maxGas = 0n
    for (let draw = 0; caught.length < 12 && draw < 3000; draw++) {
      const op = draw % 2 === 0 ? sizes.length - 1 - random32(15, 1, draw) % tail : random32(15, 3, draw) % sizes.length
      const fault = { op, element: random32(15, 2, draw) % sizes[op] }
      const output = answer(PARAMS, fault)
      if (output.join() === honest.join()) continue // a lie nobody can see: the answer is right
      const outcome = await play(await signed(output), { params: PARAMS, fault })
      assert.equal(outcome.winner, 'challenger', `lie at op ${fault.op} element ${fault.element}`)
      if (outcome.maxGas > maxGas) maxGas = outcome.maxGas
      caught.push(`${fault.op}:${fault.element}`)
    }
    assert.equal(caught.length, 12, `found ${caught.length} lies that change the answer`)
    assert.ok(maxGas < 5_000_000n)
    t.diagnostic(`lies (op:element): ${caught.join(' ')}; heaviest move ${maxGas} gas`)
  })
})

