import { disputeGameAbi, latestEvents, readDispute, send, type Move } from '@commons/chain'
import type { Hex } from 'viem'
import { DEFAULT_LOG_RANGE } from './constants.ts'
import { timed, type Context } from './context.ts'
import { PHASE, TRAINER_PHASES } from './moves.ts'

/** Both roles' bookkeeping of disputes: timeouts of the other side, and outcomes. */

/**
 * Ends this node's disputes whose other side missed its deadline: a challenger wins
 * when the trainer posts no trace or opens no element, a trainer when the challenger
 * names none.
 */
export async function tryTimeouts (ctx: Context): Promise<void> {
  const open = ctx.state.disputes().filter(d => !d.status.startsWith('resolved'))
  if (open.length === 0) return
  const now = (await ctx.clients.public.getBlock()).timestamp
  for (const row of open) {
    const d = await readDispute(ctx.clients, ctx.options.deployment, BigInt(row.id))
    if (d.resolved) {
      ctx.enqueue(async () => recordOutcome(ctx, BigInt(row.id), d.jobId))
      continue
    }
    if (now <= d.deadline) continue
    const theirMove = row.role === 'challenger' ? TRAINER_PHASES.has(d.phase) : d.phase === PHASE.awaitPinpoint
    if (!theirMove) continue
    try {
      await endByTimeout(ctx, BigInt(row.id))
      ctx.log(`dispute ${row.id}: the other side missed its deadline; ended by timeout`)
    } catch (error) {
      // Tried again at the next look: a timeout has no deadline of its own.
      ctx.log(`dispute ${row.id}: ending it by timeout failed (${(error as Error).name}); trying again`)
    }
  }
}

/** Ends dispute or query `id` whose other side missed its deadline (DisputeGame.timeout). */
export async function endByTimeout (ctx: Context, id: bigint): Promise<void> {
  await timed(ctx, 'chain', async () => send(ctx.clients, { address: ctx.options.deployment.contracts.disputeGame, abi: disputeGameAbi, functionName: 'timeout', args: [id] }))
}

/** A dispute ended: keep the report (moves and gas) for summaries. */
export async function recordOutcome (ctx: Context, id: bigint, jobId: bigint): Promise<void> {
  const d = await readDispute(ctx.clients, ctx.options.deployment, id)
  if (!d.resolved) return
  // A query of transcript records (checkWithheld.ts) is no dispute: answered, or the trainer slashed for silence.
  if (d.reasonName === 'answered' || d.reasonName === 'records-timeout') {
    const me = ctx.clients.account.address.toLowerCase()
    if (d.challenger.toLowerCase() === me) ctx.state.setDispute(id, jobId, 'querier', `resolved: ${d.reasonName}`, { reason: d.reasonName })
    if (d.trainer.toLowerCase() === me) ctx.state.setDispute(id, jobId, 'trainer', `resolved: ${d.winner ?? 'unknown'} won`, { winner: d.winner ?? undefined, reason: d.reasonName })
    return
  }
  const mine = ctx.challengers.get(String(id))
  const me = ctx.clients.account.address.toLowerCase()
  const role = mine !== undefined || d.challenger.toLowerCase() === me ? 'challenger' : d.trainer.toLowerCase() === me ? 'trainer' : null
  if (role === null) return
  const known = ctx.state.disputes().find(r => r.id === String(id) && r.role === role)
  if (known?.status.startsWith('resolved') === true) return
  const winner = d.winner ?? undefined
  ctx.state.setDispute(id, jobId, role, `resolved: ${winner ?? 'unknown'} won`, { winner, reason: d.reasonName })
  if (role === 'challenger') {
    const step = mine?.step ?? Number(known?.detail.step ?? d.step)
    ctx.reports.push({ id, jobId, step, role, winner, reason: d.reasonName, open: mine?.open, moves: await movesOf(ctx, id) })
  }
  ctx.log(`dispute ${id}: ${winner ?? 'nobody'} won (${d.reasonName})`)
}

/** The gas of every move of a dispute, from the receipts of its events. */
export async function movesOf (ctx: Context, id: bigint): Promise<Move[]> {
  const names = { OpTracePosted: 'postOpTrace', ValuesRequested: 'requestValues', ValuesProvided: 'provideValues', Pinpointed: 'pinpoint', Revealed: 'reveal' } as const
  const moves: Move[] = []
  for (const eventName of Object.keys(names) as Array<keyof typeof names>) {
    const events = await latestEvents(ctx.clients, { address: ctx.options.deployment.contracts.disputeGame, abi: disputeGameAbi, eventName, args: { id }, fromBlock: BigInt(ctx.options.deployment.block), range: BigInt(ctx.options.logRange ?? DEFAULT_LOG_RANGE) })
    for (const event of events) {
      const receipt = await ctx.clients.public.getTransactionReceipt({ hash: event.transactionHash as Hex })
      moves.push({ name: names[eventName], gas: receipt.gasUsed })
    }
  }
  return moves
}
