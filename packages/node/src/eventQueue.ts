/**
 * A node's event queue: handlers run one at a time, in the order queued, so the node's
 * moves never race each other. A handler that throws is logged and the queue goes on;
 * once stopped, nothing more is queued or started.
 */

export type Handler = () => Promise<void>

export interface EventQueue {
  enqueue: (handler: Handler) => void
  /** The drain in progress, or null while the queue is empty. */
  running: () => Promise<void> | null
  /** Whether more handlers wait behind the one running. */
  waiting: () => boolean
  stopped: () => boolean
  stop: () => void
}

export function createEventQueue (log: (line: string) => void): EventQueue {
  const queue: Handler[] = []
  let running: Promise<void> | null = null
  let stopped = false
  const drain = async (): Promise<void> => {
    while (queue.length > 0 && !stopped) {
      const handler = queue.shift() as Handler
      try {
        await handler()
      } catch (error) {
        log(`error: ${(error as Error).message}`)
      }
    }
    running = null
  }
  return {
    enqueue (handler) {
      if (stopped) return
      queue.push(handler)
      running ??= drain()
    },
    running: () => running,
    waiting: () => queue.length > 0,
    stopped: () => stopped,
    stop () { stopped = true }
  }
}
