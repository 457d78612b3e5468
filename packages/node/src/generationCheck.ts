import {
  ForwardPrograms, generationGame, GenerationChallenger, readGenerationDispute,
  type Clients, type Deployment, type GenerationMove, type SignedAnswer
} from '@commons/chain'
import { referenceContext, stateRootOf, type EngineContext, type Tensor } from '@commons/engine'
import { toHex } from '@commons/protocol'
import type { Hex } from 'viem'
import { NodeError } from './context.ts'
import { receiptMessage, type Receipt } from './receipt.ts'
import { lastCheckpointOf } from './servedModel.ts'

/**
 * The client's side of a generation dispute, as a node or `commons infer --verify` runs
 * it: the answer is replayed on the client's own copy of the model (a run directory whose
 * last checkpoint has the receipt's model root); at the first token that differs it
 * opens a dispute on InferenceDisputes and plays every move of it, asking for the
 * provider's values on-chain when it needs them, until the game ends.
 */

export class AnswerCheckError extends NodeError {
  override name = 'AnswerCheckError'
}

/** The model a client replays answers with: its parameters, forward programs and state root. */
export interface ReplayModel {
  engine: EngineContext
  programs: ForwardPrograms
  weights: readonly Tensor[]
  root: Hex
}

/** The replay model of a run directory: the parameters of its last checkpoint (the state root commits to it). */
export async function replayModelOf (dir: string, recipe: ForwardPrograms['recipe'], engine: EngineContext = referenceContext()): Promise<ReplayModel> {
  const state = await lastCheckpointOf(dir, recipe)
  if (state === undefined) throw new AnswerCheckError(`${dir} has no checkpoint to replay answers with`, { hint: 'pass the --out directory of commons train, or a published run', details: { dir } })
  return { engine, programs: new ForwardPrograms(engine, recipe), weights: state.params, root: toHex(stateRootOf(state)) }
}

/** A receipt with the token lists it hashes, as the dispute game reads it. */
export function signedAnswer (receipt: Receipt, prompt: readonly number[], output: readonly number[]): SignedAnswer {
  const { signature, ...rest } = receipt
  return { service: BigInt(receipt.service), receipt: receiptMessage(rest), signature, prompt, output }
}

export interface AnswerCheck {
  /** The first output token the replay does not give; -1 when every token agrees. */
  wrongToken: number
  /** `moves`: the challenger's (with their gas); `played`: every move on-chain, both sides', the open included. */
  dispute?: { id: bigint, winner: 'challenger' | 'provider' | null, reason: string, moves: GenerationMove[], maxGas: bigint, played: number }
}

export interface CheckOptions {
  /** Open and play a dispute over a wrong token (default true). */
  dispute?: boolean
  /** Milliseconds between looks at the game while waiting for the provider. */
  pollMs?: number
  /** Give up waiting after this long (the dispute stays open: `playGenerationDispute` resumes it). */
  timeoutMs?: number
  onMove?: (move: GenerationMove) => void
}

/** Replays an answer (greedy, or sampled under its receipt's seed) and, at a wrong token, disputes it to the end. */
export async function checkAnswer (components: { clients: Clients, deployment: Deployment }, model: ReplayModel, answer: SignedAnswer, options: CheckOptions = {}): Promise<AnswerCheck> {
  if (answer.receipt.modelRoot.toLowerCase() !== model.root.toLowerCase()) {
    throw new AnswerCheckError(`the receipt is for model ${answer.receipt.modelRoot}, the replay model is ${model.root}`, { hint: 'replay with the run the service serves (its model CID)' })
  }
  const challenger = new GenerationChallenger(components.clients, components.deployment, generationGame(components.deployment), model.engine, model.programs, model.weights)
  const wrongToken = challenger.firstWrongToken(answer)
  if (wrongToken < 0 || options.dispute === false) return { wrongToken }
  const { id, move } = await challenger.open(answer, wrongToken)
  options.onMove?.(move)
  return { wrongToken, dispute: await playGenerationDispute(challenger, id, [move], options) }
}

/** Plays the challenger's moves of dispute `id` until it ends (or `timeoutMs` passes). */
export async function playGenerationDispute (challenger: GenerationChallenger, id: bigint, moves: GenerationMove[] = [], options: CheckOptions = {}): Promise<NonNullable<AnswerCheck['dispute']>> {
  const game = generationGame(challenger.deployment)
  const deadline = Date.now() + (options.timeoutMs ?? 600_000)
  for (;;) {
    const d = await readGenerationDispute(challenger.clients, game, id)
    const result = { id, winner: d.winner, reason: d.reasonName, moves, maxGas: moves.reduce((m, x) => x.gas > m ? x.gas : m, 0n), played: Number(d.moves) + 1 }
    if (d.winner !== null) return result
    // Every move due now is made before the deadline is looked at: with timeoutMs 0, one
    // call plays what it can and returns (a slow RPC must not make it give up unplayed).
    const move = await challenger.advance(id)
    if (move !== null) {
      moves.push(move)
      options.onMove?.(move)
      continue
    }
    if (Date.now() > deadline) return result
    await new Promise(resolve => setTimeout(resolve, options.pollMs ?? 1_000))
  }
}
