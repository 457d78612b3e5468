import type { Abi } from 'viem'
import { disputeGameAbi, trainingMarketAbi } from '@commons/chain'
import { DEFAULT_CONFIRMATIONS, DEFAULT_LOG_RANGE, DEFAULT_POLL_MS } from './constants.ts'
import type { Context, Service } from './context.ts'
import { recordOutcome, tryTimeouts } from './disputes.ts'
import type { EventQueue } from './eventQueue.ts'
import { considerJob, onDisputeOpened, onPinpointed, onRecordsQueried, onValuesRequested, reannounceTraces, retrySkipped, tryFinalize } from './roles/trainer.ts'
import { challengePinpoint, onOwnDisputeOpened, onResultSubmitted } from './roles/validator.ts'
import { createWatcher, type WatchedEvent } from './watcher.ts'

/**
 * Follows the market and the dispute game: each look at the chain queues the new events'
 * handlers in chain order, then the timed chores (finalizing, timeouts). Events handled
 * before a restart are not handled again.
 */

export interface ChainEvents extends Service {
  /** One look at the chain, queued (and the trainer's traces announced again now and then). */
  tick: () => void
  /** A look now, unless the queue already has work: a peer announced a job or a result. */
  wake: () => void
}

export function createChainEvents (ctx: Context, queue: EventQueue): ChainEvents {
  const { options, state, clients } = ctx
  const { enqueue } = queue
  const game = options.deployment.contracts.disputeGame.toLowerCase()
  const handle = (event: WatchedEvent): void => {
    // The market and the game both name events DisputeOpened and DisputeResolved: the game's are the disputes.
    if ((event.eventName === 'DisputeOpened' || event.eventName === 'DisputeResolved') && event.address.toLowerCase() !== game) return
    const args = event.args as Record<string, unknown>
    switch (event.eventName) {
      case 'JobPosted': {
        const jobId = args.jobId as bigint
        if (state.job(jobId, 'seen') === undefined) state.setJob(jobId, 'seen', 'posted', { block: String(event.blockNumber) })
        enqueue(async () => considerJob(ctx, jobId))
        break
      }
      case 'JobClaimed': {
        // A claim of ours: trained if this node took it for lost or not mined yet (considerJob
        // passes over jobs it is already training or done with).
        const jobId = args.jobId as bigint
        if ((args.trainer as string).toLowerCase() === clients.account.address.toLowerCase()) enqueue(async () => considerJob(ctx, jobId))
        break
      }
      case 'ResultSubmitted': { const jobId = args.jobId as bigint; const hash = event.blockHash; enqueue(async () => { onResultSubmitted(ctx, jobId, hash) }); break }
      case 'DisputeOpened': {
        const { id, jobId, step, challenger } = args as { id: bigint, jobId: bigint, step: number, challenger: string }
        enqueue(async () => onDisputeOpened(ctx, id, jobId, step))
        if (challenger.toLowerCase() === clients.account.address.toLowerCase()) enqueue(async () => onOwnDisputeOpened(ctx, id, jobId, step))
        break
      }
      case 'OpTracePosted': { const id = args.id as bigint; enqueue(async () => challengePinpoint(ctx, id)); break }
      case 'Pinpointed': { const id = args.id as bigint; enqueue(async () => onPinpointed(ctx, id)); break }
      case 'ValuesRequested': { const id = args.id as bigint; enqueue(async () => onValuesRequested(ctx, id)); break }
      case 'ValuesProvided': { const id = args.id as bigint; enqueue(async () => challengePinpoint(ctx, id)); break }
      case 'RecordsQueried': { const { id, jobId } = args as { id: bigint, jobId: bigint }; enqueue(async () => onRecordsQueried(ctx, id, jobId)); break }
      case 'DisputeResolved': { const { id, jobId } = args as { id: bigint, jobId: bigint }; enqueue(async () => recordOutcome(ctx, id, jobId)); break }
    }
  }

  // Events already handled before a restart are not handled again; none is older than the deployment.
  const handledKey = `lastBlock:${options.deployment.contracts.market}`
  const handled = state.meta(handledKey)
  const watcher = createWatcher({
    clients,
    addresses: [options.deployment.contracts.market, options.deployment.contracts.disputeGame],
    abi: [...trainingMarketAbi, ...disputeGameAbi] as Abi,
    fromBlock: handled === undefined ? BigInt(options.deployment.block) : BigInt(handled) + 1n,
    range: BigInt(options.logRange ?? DEFAULT_LOG_RANGE),
    confirmations: BigInt(options.confirmations ?? DEFAULT_CONFIRMATIONS),
    async onEvents (events, toBlock) {
      for (const event of events) handle(event)
      // Marked handled once queued behind this window: they run before the next look does.
      enqueue(async () => { state.setMeta(handledKey, String(toBlock)) })
    }
  })

  // Timed work (finalizing, timeouts) depends on the chain's clock, which moves with
  // its blocks: it is looked at when blocks came, and at least every 15 s. So are the
  // jobs a trainer skipped (busy, short of stake, inputs not had in time, stopped): a
  // quiet chain (a devnet mines only on transactions) must not leave them waiting.
  let lastChores = 0
  let lastAnnounce = 0
  let timer: ReturnType<typeof setInterval> | undefined
  const tick = (): void => {
    if (queue.stopped()) return
    if (Date.now() - lastAnnounce > 2_000) {
      lastAnnounce = Date.now()
      reannounceTraces(ctx)
    }
    enqueue(async () => {
      const fresh = await watcher.poll()
      if (fresh || Date.now() - lastChores > 15_000) {
        lastChores = Date.now()
        await tryFinalize(ctx)
        await tryTimeouts(ctx)
        retrySkipped(ctx, true)
      }
    })
  }
  return {
    tick,
    wake () { if (!queue.waiting()) tick() },
    // No faster than the chain makes blocks (clients.pollingMs: its block time on a public chain).
    start () { timer = setInterval(tick, options.pollMs ?? Math.max(DEFAULT_POLL_MS, clients.pollingMs)) },
    stop () { clearInterval(timer) }
  }
}
