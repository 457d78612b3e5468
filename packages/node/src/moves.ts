import { PHASES, readDispute, type Move } from '@commons/chain'
import type { Context } from './context.ts'

/** Dispute phases as the DisputeGame numbers them (from the chain package's names): who must move next. */
export const PHASE = {
  awaitTrace: PHASES.indexOf('await-trace'),
  awaitPinpoint: PHASES.indexOf('await-pinpoint'),
  awaitReveal: PHASES.indexOf('await-reveal'),
  resolved: PHASES.indexOf('resolved'),
  awaitValues: PHASES.indexOf('await-values'),
  awaitRecords: PHASES.indexOf('await-records')
} as const

/** The phases in which the trainer must move. */
export const TRAINER_PHASES: ReadonlySet<number> = new Set([PHASE.awaitTrace, PHASE.awaitReveal, PHASE.awaitValues, PHASE.awaitRecords])

/** Longest wait between two tries of a failed move. */
const MAX_RETRY_DELAY_MS = 10_000

/**
 * Plays one move of a dispute, and if it fails (an RPC that dropped it, a transaction
 * that ran out of gas, a node that was busy) tries again, with growing pauses, for as
 * long as the dispute still waits for this move and its deadline has not passed: an
 * honest party loses a dispute only by being wrong, never by one failed transaction.
 * Each try is a separate handler on the node's queue, so retries never hold up other
 * events. `attempt` (0, 1, ...) lets the move raise its gas margin.
 */
export async function playMove (ctx: Context, id: bigint, phase: number, label: string, move: (attempt: number) => Promise<Move | void>): Promise<void> {
  const tryOnce = async (attempt: number): Promise<void> => {
    try {
      await move(attempt)
    } catch (error) {
      const d = await readDispute(ctx.clients, ctx.options.deployment, id)
      if (d.phase !== phase) return // moved on: the move went through after all, or the dispute ended
      const now = (await ctx.clients.public.getBlock({ blockTag: 'latest' })).timestamp
      const e = error as Error
      if (now > d.deadline) {
        ctx.log(`dispute ${id}: ${label} failed and its deadline has passed (${e.name}: ${e.message})`)
        return
      }
      const delay = Math.min(500 * 2 ** attempt, MAX_RETRY_DELAY_MS)
      ctx.log(`dispute ${id}: ${label} failed (${e.name}: ${e.message}); trying again in ${delay} ms, ${d.deadline - now} s before its deadline`)
      setTimeout(() => { if (!ctx.stopped()) ctx.enqueue(async () => tryOnce(attempt + 1)) }, delay)
    }
  }
  await tryOnce(0)
}
