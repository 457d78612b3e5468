import { BaseError } from '@commons/errors'
import { hexBytes, nodeRoot, toHex, type Hash } from '@commons/protocol'
import { compileForwardProgram, paramSpecs, type EngineContext, type ForwardProgram, type Recipe, type SampledPick } from '@commons/engine'
import type { Address, ContractFunctionArgs, Hex, TransactionReceipt } from 'viem'
import { send, type Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import { NotDeployedError } from './errors.ts'
import { inferenceDisputesAbi } from './generated/contracts.ts'
import { disputePhases, disputeReasons } from './generated/enums.ts'
import { latestEvents } from './logs.ts'
import { receiptEvent } from './receiptEvent.ts'

/**
 * A generated token disputed on-chain (docs/inference.md, InferenceDisputes): what the
 * challenger (generationDisputeChallenger.ts) and the provider
 * (generationDisputeDefender.ts) share. The game is the training game's pinpoint game
 * over the forward program of the disputed token's window.
 */

export class GenerationDisputeError extends BaseError {
  override name = 'GenerationDisputeError'
}

/** The receipt as the contract reads it: the EIP-712 message the provider signed (node's receipt.ts). */
export interface ReceiptStruct {
  provider: Address
  service: bigint
  issuedAt: bigint
  modelRoot: Hex
  promptHash: Hex
  tokens: number
  seeded: boolean
  seed: bigint
  temperatureBits: number
  topK: number
  topPBits: number
  outputHash: Hex
  pricePer1k: bigint
  cost: bigint
  channel: Hex
  cumulative: bigint
  spent: bigint
}

/** An answer as a challenger holds it: the signed receipt, the prompt and output token ids. */
export interface SignedAnswer {
  service: bigint
  receipt: ReceiptStruct
  signature: Hex
  prompt: readonly number[]
  output: readonly number[]
}

/** The window token `index` of an answer was generated from: the last `context` tokens before it. */
export function answerWindow (answer: Pick<SignedAnswer, 'prompt' | 'output'>, index: number, context: number): number[] {
  return [...answer.prompt, ...answer.output.slice(0, index)].slice(-context)
}

/** How token `index` of an answer was picked: undefined for a greedy answer, else its receipt's seed and words. */
export function answerSampling (receipt: Pick<ReceiptStruct, 'seeded' | 'seed' | 'temperatureBits' | 'topK' | 'topPBits'>, index: number): SampledPick | undefined {
  if (!receipt.seeded) return undefined
  return { seed: Number(receipt.seed), index, words: { temperatureBits: receipt.temperatureBits, topK: receipt.topK, topPBits: receipt.topPBits } }
}

/**
 * The forward programs of a recipe, greedy and sampled, one each per window length
 * 1..context, and their root (what a service binds): leaves 0..count−1 greedy, then
 * count..2·count−1 sampled.
 */
export class ForwardPrograms {
  private readonly programs = new Map<string, ForwardProgram>()
  private readonly ctx: EngineContext
  readonly recipe: Recipe
  readonly count: number

  constructor (ctx: EngineContext, recipe: Recipe) {
    this.ctx = ctx
    this.recipe = recipe
    this.count = recipe.model.context
  }

  of (length: number, sampled = false): ForwardProgram {
    const key = `${sampled ? 's' : 'g'}${length}`
    let program = this.programs.get(key)
    if (program === undefined) {
      program = compileForwardProgram(this.ctx, this.recipe, length, sampled)
      this.programs.set(key, program)
    }
    return program
  }

  /** keccak256(abi.encode(header)) of every length, greedy then sampled: the leaves of the programs root. */
  hashes (): Hash[] {
    return Array.from({ length: 2 * this.count }, (_, i) => hexBytes(this.of(i % this.count + 1, i >= this.count).hash))
  }

  /** The leaf of a program among hashes(). */
  leaf (length: number, sampled = false): number {
    return (sampled ? this.count : 0) + length - 1
  }

  root (): Hex {
    return toHex(nodeRoot(this.hashes()))
  }

  header (length: number, sampled = false) {
    const p = this.of(length, sampled)
    return { opsRoot: p.opsRoot, ops: p.ops.length, paramSlots: paramSpecs(this.recipe.model).length, length }
  }
}

/**
 * The deployment's InferenceDisputes (deploy wires it to a ForwardVerifier, so greedy and
 * sampled answers are disputable), or a NotDeployedError for a manifest from before it.
 */
export function generationGame (deployment: Deployment): Address {
  const game = deployment.contracts.inferenceDisputes
  if (game === undefined) {
    throw new NotDeployedError('this deployment has no InferenceDisputes contract', { hint: 'deploy the contracts again (commons chain deploy)' })
  }
  return game
}

/** The provider binds the forward programs its service's answers are disputed by (once). */
export async function setServicePrograms (clients: Clients, game: Address, service: bigint, programs: ForwardPrograms): Promise<TransactionReceipt> {
  return send(clients, { address: game, abi: inferenceDisputesAbi, functionName: 'setPrograms', args: [service, programs.root(), programs.count] })
}

/**
 * Binds the service's forward programs unless it already has them (a restarted provider);
 * returns the root bound. A root bound before that is not this recipe's is an error: the
 * service's answers would be disputed by programs that are not its model's.
 */
export async function ensureServicePrograms (clients: Clients, deployment: Deployment, service: bigint, programs: ForwardPrograms): Promise<Hex> {
  const game = generationGame(deployment)
  const root = programs.root()
  const [bound, count] = await clients.public.readContract({ address: game, abi: inferenceDisputesAbi, functionName: 'programsOf', args: [service] })
  if (count === 0) {
    await setServicePrograms(clients, game, service, programs)
    return root
  }
  if (bound.toLowerCase() !== root.toLowerCase()) {
    throw new GenerationDisputeError(`service ${service} is bound to forward programs ${bound}, not this model's ${root}`, {
      hint: 'register a new service for this model (retire the old one)', details: { service: String(service), bound, root }
    })
  }
  return root
}

const CHALLENGER_WINS = new Set(['trace-timeout', 'reveal-timeout', 'mismatch'])

/** A generation dispute as the contract keeps it, with its phase and winner named. */
export async function readGenerationDispute (clients: Clients, game: Address, id: bigint) {
  const d = await clients.public.readContract({ address: game, abi: inferenceDisputesAbi, functionName: 'getDispute', args: [id] })
  const reasonName = disputeReasons[d.reason]
  const winner = reasonName === 'none' ? null : CHALLENGER_WINS.has(reasonName) ? 'challenger' as const : 'provider' as const
  return { ...d, reasonName, phaseName: disputePhases[d.phase], winner }
}

/** The slot roots and op output roots the provider posted, from GenerationTracePosted. */
export async function postedGenerationTrace (clients: Clients, game: Address, id: bigint, fromBlock = 0n): Promise<{ slotRoots: Hash[], roots: Hash[] }> {
  const events = await latestEvents(clients, { address: game, abi: inferenceDisputesAbi, eventName: 'GenerationTracePosted', args: { id }, fromBlock })
  const args = events[0]?.args as { slotRoots?: readonly Hex[], roots?: readonly Hex[] } | undefined
  if (args?.roots === undefined || args.slotRoots === undefined) throw new GenerationDisputeError(`generation dispute ${id} has no posted trace yet`)
  return { slotRoots: args.slotRoots.map(hexBytes), roots: args.roots.map(hexBytes) }
}

/** The id of the dispute a transaction opened. */
export function openedGenerationDispute (receipt: TransactionReceipt): bigint {
  return receiptEvent(receipt, inferenceDisputesAbi, 'GenerationDisputed').args.id
}

/** A move of a generation dispute and its gas. */
export interface GenerationMove {
  name: 'open' | 'postTrace' | 'requestValues' | 'provideValues' | 'pinpoint' | 'reveal' | 'timeout'
  gas: bigint
}

/** The claim of InferenceDisputes.open, as its GenerationClaim log carries it. */
type OpenedClaim = ContractFunctionArgs<typeof inferenceDisputesAbi, 'nonpayable', 'open'>[0]

/**
 * What the challenger opened dispute `id` with (the receipt, prompt, output and index),
 * read back from the chain: the GenerationClaim log of the open. A provider needs no
 * memory of its answers to defend them, so it defends after a restart; and the log is
 * there however the open was called (directly, or through another contract).
 */
export async function disputedClaim (clients: Clients, game: Address, id: bigint, fromBlock = 0n): Promise<SignedAnswer & { index: number, window: number }> {
  const events = await latestEvents(clients, { address: game, abi: inferenceDisputesAbi, eventName: 'GenerationClaim', args: { id }, fromBlock })
  const claim = (events[0]?.args as { claim?: OpenedClaim } | undefined)?.claim
  if (claim === undefined) throw new GenerationDisputeError(`no GenerationClaim event for dispute ${id}`)
  return { service: claim.service, receipt: claim.receipt, signature: claim.signature, prompt: claim.prompt, output: claim.output, index: claim.index, window: claim.header.length }
}

/** The dispute's mover is late: anyone may end it by timeout. */
export async function isLate (clients: Clients, deadline: bigint): Promise<boolean> {
  const block = await clients.public.getBlock({ blockTag: 'latest' })
  return block.timestamp > deadline
}
