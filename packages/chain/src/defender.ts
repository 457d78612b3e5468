import { openingStruct, proveElements, proveLeaves, recordHashes, nodeProof, tensorRoots, toHex, wordOf } from '@commons/protocol'
import { stateSlots, traceStep, type EngineContext, type Recipe, type RunFault, type StepRecord, type Tensor, type TokenWindows, type TrainState } from '@commons/engine'
import { send, type Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import { DisputeError, INIT_STEP, readDispute, type Move } from './dispute.ts'
import { disputeGameAbi } from './generated/contracts.ts'
import { latestContractEvents } from './logs.ts'

/**
 * The trainer's side of a pinpoint dispute (dispute.ts): posts its op trace, reveals
 * requested values and answers record queries, each from its own computation.
 */

/** What a trainer keeps of its run to defend it. */
export interface TrainerRun {
  /** What this trainer re-runs steps on. */
  engine: EngineContext
  recipe: Recipe
  /** The job's tokens: in memory, or a stored stream read by windows. */
  tokens: TokenWindows
  /** S_t as the trainer computed it (from its checkpoints, with its fault if any). */
  stateAt: (step: number) => Promise<TrainState>
  fault?: RunFault
  /** A fine-tuning job's base weights (the init program copies them). */
  base?: readonly Tensor[]
}

export class Defender {
  private readonly clients: Clients
  private readonly deployment: Deployment
  private readonly run: TrainerRun
  private readonly traces = new Map<number, Tensor[]>()

  constructor (clients: Clients, deployment: Deployment, run: TrainerRun) {
    this.clients = clients
    this.deployment = deployment
    this.run = run
  }

  /** The op outputs of step t as this trainer computed them (S_0's slots for INIT_STEP). */
  async trace (step: number): Promise<Tensor[]> {
    const known = this.traces.get(step)
    if (known !== undefined) return known
    const state = await this.run.stateAt(step === INIT_STEP ? 0 : step)
    let outputs: Tensor[]
    if (step === INIT_STEP) outputs = stateSlots(state)
    else {
      const fault = this.run.fault?.kind === 'step' && this.run.fault.step === step ? this.run.fault : undefined
      outputs = traceStep(this.run.engine, this.run.recipe, this.run.tokens, state, { fault, base: this.run.base }).outputs
    }
    this.traces.set(step, outputs)
    return outputs
  }

  /** One op's output of step t: what the trainer publishes for challengers (data availability). */
  async output (step: number, op: number): Promise<Tensor> {
    const outputs = await this.trace(step)
    if (op < 0 || op >= outputs.length) throw new DisputeError(`step ${step} has no op ${op}`)
    return outputs[op]
  }

  async postOpTrace (id: bigint): Promise<Move> {
    const d = await readDispute(this.clients, this.deployment, id)
    const roots = tensorRoots(await this.trace(d.step)).map(toHex)
    const receipt = await send(this.clients, { address: this.deployment.contracts.disputeGame, abi: disputeGameAbi, functionName: 'postOpTrace', args: [id, roots] })
    return { name: 'postOpTrace', gas: receipt.gasUsed }
  }

  /** Reveals the leaves the challenger requested (DisputeGame.provideValues). */
  async provideValues (id: bigint): Promise<Move> {
    const d = await readDispute(this.clients, this.deployment, id)
    if (d.phaseName !== 'await-values') throw new DisputeError(`dispute ${id} waits for no values (phase ${d.phaseName})`)
    const output = await this.output(d.step, d.opIndex)
    const first = Number(d.element)
    const receipt = await send(this.clients, {
      address: this.deployment.contracts.disputeGame,
      abi: disputeGameAbi,
      functionName: 'provideValues',
      args: [id, openingStruct(proveLeaves(output, first, first + d.requestedLeaves - 1))]
    })
    return { name: 'provideValues', gas: receipt.gasUsed }
  }

  /** Answers a query (DisputeGame.postRecords) with the records of this trainer's transcript. */
  async answerQuery (id: bigint, records: StepRecord[]): Promise<Move> {
    const events = await latestContractEvents(this.clients, { address: this.deployment.contracts.disputeGame, abi: disputeGameAbi, eventName: 'RecordsQueried', args: { id }, fromBlock: BigInt(this.deployment.block) })
    const indices = events[0]?.args.indices
    if (indices === undefined) throw new DisputeError(`dispute ${id} is not a query`)
    const hashes = recordHashes(records)
    const receipt = await send(this.clients, {
      address: this.deployment.contracts.disputeGame,
      abi: disputeGameAbi,
      functionName: 'postRecords',
      args: [id, indices, indices.map(i => ({ state: records[i].state, lossBits: wordOf(records[i].loss, 'f32') })), indices.map(i => nodeProof(hashes, i).map(toHex))]
    })
    return { name: 'postRecords', gas: receipt.gasUsed }
  }

  async reveal (id: bigint): Promise<Move> {
    const d = await readDispute(this.clients, this.deployment, id)
    const output = await this.output(d.step, d.opIndex)
    const element = Number(d.element)
    const receipt = await send(this.clients, {
      address: this.deployment.contracts.disputeGame,
      abi: disputeGameAbi,
      functionName: 'reveal',
      args: [id, openingStruct(proveElements(output, element, element))]
    })
    return { name: 'reveal', gas: receipt.gasUsed }
  }
}
