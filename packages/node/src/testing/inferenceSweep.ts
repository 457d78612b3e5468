import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEther, type Address, type Hex } from 'viem'
import {
  answerWindow, connect, deploy, devnetAccount, ForwardPrograms, generationGame, GenerationChallenger, GenerationDefender, readGenerationDispute, readService,
  registerAndStake, registerService, setServicePrograms, transferTokens, type Deployment, type GenerationMove, type ServedState, type SignedAnswer
} from '@commons/chain'
import { initParams, readRecipe, referenceContext, samplingWords, traceForward, Tensor, type Fault, type Recipe, type SampledPick } from '@commons/engine'
import { random32, stateRoot, toHex } from '@commons/protocol'
import { receiptMessage, signReceipt, tokensHash, type SamplingParams } from '../receipt.ts'
import { startCappedDevnet } from './cappedDevnet.ts'

/**
 * The inference fault sweep: lying providers of every kind the issue names, each caught
 * by a client that replays the answer and disputes its first wrong token on a real anvil,
 * and honest providers disputed anyway. Lies (drawn from the seed, in turn):
 *  - value: one element of one op of the forward (random op, not the pick, and element)
 *    corrupted from a random token position on, greedy;
 *  - model: another model served under the registered root (other weights: a different
 *    init, or the weights quantised to int8, one scale per tensor);
 *  - seed: a sampled answer drawn under another seed than the receipt's.
 * Only lies that change the answer count (a lie nobody can see is no lie). Every lie must
 * end slashed; no honest provider may be (each is disputed at a random token and element,
 * greedy or sampled).
 */

export type LieKind = 'value' | 'model' | 'seed'

export interface SweepOptions {
  lies: number
  honest: number
  seed: number
  home: string
  log?: (line: string) => void
}

export interface SweepOutcome {
  kind: LieKind | 'honest'
  what: string
  index: number
  winner: string | null
  reason: string
  slashed: boolean
  maxGas: number
}

const KINDS: readonly LieKind[] = ['value', 'model', 'seed']
const TOKENS = 4
const STEP = 9
const SAMPLED: SamplingParams = { tokens: TOKENS, seed: 7, temperature: 60, topK: 40, topP: 0.95 }
const GREEDY: SamplingParams = { tokens: TOKENS, seed: null, temperature: 1, topK: null, topP: null }

/** A tensor quantised to int8 with one scale per tensor (symmetric), then read back as floats: a quantised copy. */
const int8 = (t: Tensor): Tensor => {
  const scale = t.f32.reduce((m, x) => Math.max(m, Math.abs(x)), 0) / 127
  return new Tensor(t.shape, t.f32.map(x => scale === 0 ? 0 : Math.round(x / scale) * scale))
}

export async function inferenceSweep (options: SweepOptions): Promise<SweepOutcome[]> {
  const log = options.log ?? (() => {})
  const ctx = referenceContext()
  const repo = fileURLToPath(new URL('../../../../', import.meta.url))
  const tiny = await readRecipe(join(repo, 'recipes/tiny.json'))
  const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } }
  const scaled = (seed: number): Tensor[] => initParams(recipe.model, seed).map(t => new Tensor(t.shape, t.f32.map(x => x * 40)))
  const weights = scaled(5)
  const zeros = weights.map(t => new Tensor(t.shape, new Float32Array(t.size)))
  const slots = [...weights, ...zeros, ...zeros]
  const modelRoot = toHex(stateRoot(slots, STEP))
  const programs = new ForwardPrograms(ctx, recipe)
  const prompt = [...Buffer.from('sweep the claims ')]
  const context = recipe.model.context

  const pick = (params: SamplingParams, i: number): SampledPick | undefined => params.seed === null
    ? undefined
    : { seed: params.seed, index: i, words: samplingWords({ temperature: params.temperature, topK: params.topK ?? undefined, topP: params.topP ?? undefined }) }
  /** The continuation under `params` by `served`, with `fault` in every forward from token `from` on. */
  const answer = (params: SamplingParams, served: readonly Tensor[] = weights, fault?: Fault, from = 0): number[] => {
    const out: number[] = []
    for (let i = 0; i < TOKENS; i++) out.push(traceForward(ctx, recipe, served, answerWindow({ prompt, output: out }, i, context), { fault: i >= from ? fault : undefined, sampling: pick(params, i) }).token)
    return out
  }

  const devnet = await startCappedDevnet({ home: options.home })
  try {
    const [deployer, provider, client] = await Promise.all([0, 1, 2].map(async i => connect(devnet.rpcUrl, devnetAccount(i))))
    const deployment: Deployment = await deploy(deployer)
    const game: Address = generationGame(deployment)
    for (const c of [provider, client]) await transferTokens(deployer, deployment, c.account.address, parseEther('100000'))
    await registerAndStake(provider, deployment, { peerId: toHex(Buffer.from('sweep')), roles: [], amount: parseEther('50000') })
    const newService = async (): Promise<bigint> => {
      const service = await registerService(provider, deployment, { modelRoot, modelCid: '0x01', pricePer1k: parseEther('1'), endpoint: 'sweep', stake: parseEther('10') })
      await setServicePrograms(provider, game, service, programs)
      return service
    }
    const signed = async (service: bigint, params: SamplingParams, output: number[]): Promise<SignedAnswer> => {
      const unsigned = {
        provider: provider.account.address, service: String(service), issuedAt: Number((await client.public.getBlock()).timestamp), modelRoot, promptHash: tokensHash(prompt), params,
        outputHash: tokensHash(output), pricePer1k: parseEther('1').toString(), cost: '1', channel: `0x${'00'.repeat(32)}` as Hex, cumulative: '1', spent: '1'
      }
      const receipt = await signReceipt(provider.account, deployment, unsigned)
      return { service, receipt: receiptMessage(unsigned), signature: receipt.signature, prompt, output }
    }
    /** open, the provider's trace (as it really computed), pinpoint (values read off-chain), reveal. */
    const play = async (a: SignedAnswer, state: Partial<ServedState>, real: SamplingParams, at?: { index: number, choice: Fault }): Promise<Omit<SweepOutcome, 'kind' | 'what'>> => {
      const challenger = new GenerationChallenger(client, deployment, game, ctx, programs, weights)
      const defender = new GenerationDefender(provider, game, { engine: ctx, recipe, slots, step: STEP, ...state })
      const { id, move } = await challenger.open(a, at?.index)
      const index = at?.index ?? challenger.firstWrongToken(a)
      const moves: GenerationMove[] = [move, await defender.postTrace(id, answerWindow(a, index, context), pick(real, index))]
      if ((await readGenerationDispute(client, game, id)).winner === null) {
        moves.push(await challenger.pinpoint(id, async op => defender.output(id, op), at?.choice))
        moves.push(await defender.reveal(id))
      }
      const done = await readGenerationDispute(client, game, id)
      const slashed = (await readService(client, deployment, a.service)).stake === 0n
      return { index, winner: done.winner, reason: done.reasonName, slashed, maxGas: Number(moves.reduce((m, x) => x.gas > m ? x.gas : m, 0n)) }
    }

    const outcomes: SweepOutcome[] = []
    const honestGreedy = answer(GREEDY)
    const honestSampled = answer(SAMPLED)
    for (let draw = 0, n = 0; n < options.lies && draw < 100 * options.lies; draw++) {
      const kind = KINDS[n % KINDS.length]
      const r = (purpose: number): number => random32(options.seed, purpose, draw)
      let lie: { output: number[], state: Partial<ServedState>, params: SamplingParams, real: SamplingParams, what: string } | undefined
      if (kind === 'value') {
        const from = r(1) % TOKENS
        const window = answerWindow({ prompt, output: honestGreedy }, from, context)
        const sizes = traceForward(ctx, recipe, weights, window).outputs.map(o => o.size)
        const op = r(2) % (sizes.length - 1) // not the pick itself: a lie inside the forward
        const fault = { op, element: r(3) % sizes[op] }
        lie = { output: answer(GREEDY, weights, fault, from), state: { fault }, params: GREEDY, real: GREEDY, what: `token ${from}, op ${op}, element ${fault.element}` }
        if (lie.output.slice(0, from).join() !== honestGreedy.slice(0, from).join() || lie.output[from] === honestGreedy[from]) lie = undefined
      } else if (kind === 'model') {
        const quantised = r(1) % 2 === 0
        const served = quantised ? weights.map(int8) : scaled(100 + r(2) % 1000)
        lie = { output: answer(GREEDY, served), state: { served }, params: GREEDY, real: GREEDY, what: quantised ? 'int8-quantised weights' : 'another init' }
      } else {
        const real = { ...SAMPLED, seed: 8 + r(1) % 100_000 }
        lie = { output: answer(real), state: {}, params: SAMPLED, real, what: `seed ${real.seed} for ${SAMPLED.seed}` }
      }
      const reference = lie?.params.seed === null ? honestGreedy : honestSampled
      if (lie === undefined || lie.output.join() === reference.join()) continue // the answer is right: nothing to catch
      n++
      const a = await signed(await newService(), lie.params, lie.output)
      const outcome = { kind, what: lie.what, ...await play(a, lie.state, lie.real) }
      log(`lie ${n} (${kind}: ${lie.what}): token ${outcome.index}, ${outcome.winner} won (${outcome.reason}), ${outcome.slashed ? 'slashed' : 'NOT slashed'}, heaviest move ${outcome.maxGas} gas`)
      outcomes.push(outcome)
    }

    const honestService = await newService()
    for (let h = 0; h < options.honest; h++) {
      const r = (purpose: number): number => random32(options.seed, 100 + purpose, h)
      const params = h % 2 === 0 ? GREEDY : SAMPLED
      const a = await signed(honestService, params, params.seed === null ? honestGreedy : honestSampled)
      const index = r(1) % TOKENS
      const ops = programs.of(answerWindow(a, index, context).length, params.seed !== null).ops
      const op = r(2) % ops.length
      const sizes = traceForward(ctx, recipe, weights, answerWindow(a, index, context), { sampling: pick(params, index) }).outputs.map(o => o.size)
      const choice = { op, element: r(3) % sizes[op] }
      const outcome = { kind: 'honest' as const, what: `${params.seed === null ? 'greedy' : 'sampled'}, op ${op}, element ${choice.element}`, ...await play(a, {}, params, { index, choice }) }
      log(`honest ${h + 1} (${outcome.what}): token ${index}, ${outcome.winner} won (${outcome.reason}), ${outcome.slashed ? 'SLASHED' : 'stake kept'}`)
      outcomes.push(outcome)
    }
    return outcomes
  } finally {
    await devnet.stop()
  }
}
