import { TOPICS } from './constants.ts'
import type { Context, Service } from './context.ts'

/**
 * The node's gossip: trace announcements kept by announcing peer (the challenger uses
 * only the trainer's own, roles/validator.ts), and jobs or results announced by peers,
 * on which the node looks at the chain now rather than at its next tick.
 */
export function createGossip (ctx: Context, wake: () => void): Service {
  let unsubscribers: Array<() => void> = []
  return {
    start () {
      unsubscribers = [
        ctx.network.subscribe(TOPICS.checkpoints, (message, from) => {
          const m = message as { kind?: string, disputeId?: string, cid?: string }
          if (m.kind !== 'trace' || typeof m.disputeId !== 'string' || typeof m.cid !== 'string' || from === '') return
          const byPeer = ctx.traces.get(m.disputeId) ?? new Map<string, string>()
          byPeer.set(from, m.cid)
          ctx.traces.set(m.disputeId, byPeer)
        }),
        ctx.network.subscribe(TOPICS.jobs, () => { wake() }),
        ctx.network.subscribe(TOPICS.results, () => { wake() })
      ]
    },
    stop () {
      for (const unsubscribe of unsubscribers) unsubscribe()
      unsubscribers = []
    }
  }
}
