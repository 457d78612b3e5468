import { BaseError } from '@commons/errors'
import { hexBytes, nodeRoot, toHex, type Hash } from '@commons/protocol'
import { compileForwardProgram, paramSpecs, type EngineContext, type ForwardProgram, type Recipe, type SampledPick } from '@commons/engine'
import { decodeEventLog, type Address, type Hex, type TransactionReceipt } from 'viem'
import { send, type Clients } from './clients.ts'
import { inferenceContracts } from './channelVoucher.ts'
import { deployOne, type Deployment } from './deploy.ts'
import { forwardVerifierAbi, forwardVerifierBytecode, inferenceDisputesAbi, inferenceDisputesBytecode, samplingProverAbi, samplingProverBytecode, serviceRegistryAbi } from './generated/contracts.ts'
import { disputePhases, disputeReasons } from './generated/enums.ts'
import { latestEvents } from './logs.ts'

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
 * Deploys InferenceDisputes beside a deployment's ServiceRegistry, with a ForwardVerifier
 * (the deployment's step verifier, and a SamplingProver for the sampling ops), and allows
 * it to slash services (the caller must own the ServiceRegistry: the devnet's deployer).
 */
export async function deployGenerationDisputes (clients: Clients, deployment: Deployment, treasury: Address = clients.account.address): Promise<Address> {
  const { serviceRegistry } = inferenceContracts(deployment)
  const sampling = await deployOne(clients, samplingProverAbi, samplingProverBytecode, [])
  const verifier = await deployOne(clients, forwardVerifierAbi, forwardVerifierBytecode, [deployment.contracts.stepVerifier, sampling.address])
  const { address } = await deployOne(clients, inferenceDisputesAbi, inferenceDisputesBytecode, [deployment.contracts.token, serviceRegistry, verifier.address, clients.account.address, treasury])
  await send(clients, { address: serviceRegistry, abi: serviceRegistryAbi, functionName: 'setSlasher', args: [address, true] })
  return address
}

/** The provider binds the forward programs its service's answers are disputed by (once). */
export async function setServicePrograms (clients: Clients, game: Address, service: bigint, programs: ForwardPrograms): Promise<TransactionReceipt> {
  return send(clients, { address: game, abi: inferenceDisputesAbi, functionName: 'setPrograms', args: [service, programs.root(), programs.count] })
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
  for (const log of receipt.logs) {
    try {
      const event = decodeEventLog({ abi: inferenceDisputesAbi, data: log.data, topics: log.topics })
      if (event.eventName === 'GenerationDisputed') return event.args.id
    } catch { /* another contract's log (the token's Transfer) */ }
  }
  throw new GenerationDisputeError('no GenerationDisputed event in the receipt')
}

/** A move of a generation dispute and its gas. */
export interface GenerationMove {
  name: 'open' | 'postTrace' | 'pinpoint' | 'reveal' | 'timeout'
  gas: bigint
}
