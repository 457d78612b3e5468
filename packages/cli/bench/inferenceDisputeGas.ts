import { join } from 'node:path'
import { parseEther, type Hex } from 'viem'
import {
  ensureServicePrograms, ForwardPrograms, generationGame, GenerationChallenger, inferenceDisputesAbi, openChannel, readService, registerAndStake, registerService,
  type Clients, type Deployment
} from '@commons/chain'
import { referenceContext } from '@commons/engine'
import { checkAnswer, playGenerationDispute, replayModelOf, servedStateOf, signedAnswer, signReceipt, startGenerationDefence, tokensHash, loadServedModel } from '@commons/node'
import { writeTinyRun } from '@commons/node/testing/tinyModel'
import { earlyLie } from '@commons/node/testing/earlyLie'

/** The goal for a dispute: at most 4 moves after the open, each under 5M gas. */
export const MOVES_GOAL = 4
export const GAS_GOAL = 5_000_000

export interface DisputeGas {
  /** Every move on-chain in order, the open first, with who made it and its gas. */
  moves: Array<{ name: string, by: 'challenger' | 'provider', gas: number }>
  /** Transactions after the open; and rounds, a values round (request and answer) counted once. */
  movesAfterOpen: number
  roundsAfterOpen: number
  maxGas: number
  winner: string | null
  /** What the paying client got back from the provider's stake (token units). */
  refund: string
}

/**
 * A real lie disputed to the end on anvil: a provider whose forward departs at an early op
 * (one element of one op corrupted, so the answer changes) answers a paid request; the
 * client replays it, opens, and plays every move against the provider's own defence
 * (its trace, the values it is asked for, its reveal) until the provider is slashed.
 * The gas of each move is the transaction's.
 */
export async function disputeGas (dir: string, deployment: Deployment, client: Clients, provider: Clients, log: (line: string) => void): Promise<DisputeGas> {
  const ctx = referenceContext()
  const run = join(dir, 'dispute-run')
  await writeTinyRun(run, 5)
  const model = await loadServedModel(run)
  const programs = new ForwardPrograms(ctx, model.recipe)
  const replay = await replayModelOf(run, model.recipe, ctx)
  const prompt = [...Buffer.from('gas of a dispute')]
  const ops = programs.of(prompt.length).ops.length
  const lie = earlyLie(ctx, model.recipe, replay.weights, prompt, ops)
  if (lie === undefined) throw new Error('no early op of the bench model changes its answer')
  const { fault, output } = lie
  log(`inference: a lie at op ${fault.op} of ${ops}, disputed to the end`)

  await registerAndStake(provider, deployment, { peerId: '0x03', roles: [], amount: parseEther('50') })
  const price = parseEther('0.01')
  const service = await registerService(provider, deployment, { modelRoot: model.root, modelCid: '0x01', pricePer1k: price, endpoint: 'bench', stake: parseEther('40') })
  await ensureServicePrograms(provider, deployment, service, programs)
  const now = (await client.public.getBlock()).timestamp
  const channel: Hex = await openChannel(client, deployment, { provider: provider.account.address, amount: parseEther('1'), expiry: now + 7n * 86_400n })
  const cost = parseEther('0.001')
  const receipt = await signReceipt(provider.account, deployment, {
    provider: provider.account.address, service: String(service), issuedAt: Number(now), modelRoot: model.root,
    promptHash: tokensHash(prompt), params: { tokens: output.length, seed: null, temperature: 1, topK: null, topP: null }, outputHash: tokensHash(output),
    pricePer1k: String(price), cost: String(cost), channel, cumulative: String(cost), spent: String(cost)
  })
  const answer = signedAnswer(receipt, prompt, output)
  const defence = startGenerationDefence({ clients: provider, deployment }, { state: { ...(await servedStateOf(run, model.recipe, model.root, ctx)), fault }, services: () => [service], pollMs: 0 })
  const moves: DisputeGas['moves'] = []
  try {
    const checked = await checkAnswer({ clients: client, deployment }, replay, answer, { dispute: true, timeoutMs: 0, onMove: m => moves.push({ name: m.name, by: 'challenger', gas: Number(m.gas) }) })
    if (checked.dispute === undefined) throw new Error('the replay found no wrong token')
    const challenger = new GenerationChallenger(client, deployment, generationGame(deployment), ctx, programs, replay.weights)
    let end = checked.dispute
    for (let i = 0; i < 60 && end.winner === null; i++) {
      for (const m of await defence.tick()) moves.push({ name: m.name, by: 'provider', gas: Number(m.gas) })
      end = await playGenerationDispute(challenger, end.id, [], { timeoutMs: 0, onMove: m => moves.push({ name: m.name, by: 'challenger', gas: Number(m.gas) }) })
    }
    if ((await readService(client, deployment, service)).stake !== 0n) throw new Error('the lying provider was not slashed')
    const game = generationGame(deployment)
    const [, owed, payment] = await client.public.readContract({ address: game, abi: inferenceDisputesAbi, functionName: 'refundOf', args: [end.id] })
    const refunded = await client.public.readContract({ address: game, abi: inferenceDisputesAbi, functionName: 'refunded', args: [payment] })
    return { moves, movesAfterOpen: moves.length - 1, roundsAfterOpen: moves.length - 1 - moves.filter(m => m.name === 'provideValues').length, maxGas: Math.max(...moves.map(m => m.gas)), winner: end.winner, refund: refunded ? String(owed) : '0' }
  } finally {
    await defence.stop()
  }
}
