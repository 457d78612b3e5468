import {
  allEvents, generationGame, GenerationDefender, inferenceDisputesAbi, readGenerationDispute,
  type Clients, type Deployment, type GenerationMove, type ServedState
} from '@commons/chain'
import { referenceContext, stateRootOf, stateSlots, type EngineContext, type Recipe } from '@commons/engine'
import { toHex } from '@commons/protocol'
import type { Hex } from 'viem'
import { NodeError } from './context.ts'
import { lastCheckpointOf } from './servedModel.ts'

/**
 * The provider's side of generation disputes, run by the node: every dispute opened on
 * one of its services is answered move by move (the trace, requested values, the
 * pinpointed element), and a challenger that misses its move is ended by timeout. The
 * disputes and what each needs are read from the chain at every look, so a provider
 * that restarts defends the disputes opened while it was down (within the move time).
 */

export class DefenceStateError extends NodeError {
  override name = 'DefenceStateError'
}

/**
 * What the provider defends with: the 3P slots and step of the run's last checkpoint,
 * whose state root must be the root its service registered (model.safetensors holds the
 * parameters alone; the root commits to the optimizer's moments too).
 */
export async function servedStateOf (dir: string, recipe: Recipe, root: Hex, engine: EngineContext = referenceContext()): Promise<ServedState> {
  const state = await lastCheckpointOf(dir, recipe)
  if (state === undefined) throw new DefenceStateError(`${dir} has no checkpoint to defend answers with`, { hint: 'serve a run directory made by commons train (it keeps checkpoints/)', details: { dir } })
  const have = toHex(stateRootOf(state))
  if (have.toLowerCase() !== root.toLowerCase()) {
    throw new DefenceStateError(`the last checkpoint of ${dir} has state root ${have}, not the served ${root}`, { hint: 'the run directory is not the one its model.safetensors came from', details: { have, root } })
  }
  return { engine, recipe, slots: stateSlots(state), step: state.step }
}

export interface GenerationDefence {
  /** One look: every open dispute of the services gets the move it waits for. */
  tick(): Promise<Array<GenerationMove & { id: bigint }>>
  stop(): Promise<void>
}

export interface DefenceInit {
  state: ServedState
  /** The services whose disputes it answers (read at every look: serve registers after it starts). */
  services: () => bigint[]
  /** Milliseconds between looks; 0: only `tick` (tests). */
  pollMs?: number
  log?: (line: string) => void
}

export const DEFAULT_DEFENCE_POLL_MS = 5_000

export function startGenerationDefence (components: { clients: Clients, deployment: Deployment }, init: DefenceInit): GenerationDefence {
  const { clients, deployment } = components
  const game = generationGame(deployment)
  const defender = new GenerationDefender(clients, game, init.state, BigInt(deployment.block))
  const log = init.log ?? (() => {})
  const open = new Set<bigint>()
  let scanned = BigInt(deployment.block)

  async function tick (): Promise<Array<GenerationMove & { id: bigint }>> {
    const services = init.services()
    if (services.length === 0) return []
    const head = await clients.public.getBlockNumber()
    if (head >= scanned) {
      const events = await allEvents(clients, { address: game, abi: inferenceDisputesAbi, eventName: 'GenerationDisputed', args: { service: services }, fromBlock: scanned, toBlock: head })
      for (const e of events) if (e.args.id !== undefined) open.add(e.args.id)
      scanned = head + 1n
    }
    const moves: Array<GenerationMove & { id: bigint }> = []
    for (const id of open) {
      try {
        // One read of the dispute a look, and one more only after a move (which may end it).
        let d = await readGenerationDispute(clients, game, id)
        const move = d.winner === null ? await defender.advance(id, d) : null
        if (move !== null) {
          log(`generation dispute ${id}: ${move.name} (${move.gas} gas)`)
          moves.push({ ...move, id })
          d = await readGenerationDispute(clients, game, id)
        }
        if (d.winner !== null) {
          open.delete(id)
          log(`generation dispute ${id} ended: ${d.winner} won (${d.reasonName})`)
        }
      } catch (error) {
        log(`generation dispute ${id}: ${(error as Error).message}`)
      }
    }
    return moves
  }

  let running: Promise<unknown> = Promise.resolve()
  const pollMs = init.pollMs ?? DEFAULT_DEFENCE_POLL_MS
  const timer = pollMs > 0
    ? setInterval(() => { running = running.then(tick).catch((error: unknown) => { log(`defending answers: ${(error as Error).message}`) }) }, pollMs)
    : null
  return {
    tick: async () => {
      const run = running.then(tick)
      running = run.catch(() => {})
      return run
    },
    async stop () {
      if (timer !== null) clearInterval(timer)
      await running
    }
  }
}
