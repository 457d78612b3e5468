import type { Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import { keepClockAhead } from './devnet.ts'
import { DEVNET_CHAIN_ID, FEED_FIRST_ANSWER, nextWalkAnswer, updatePrice } from './feed.ts'
import { priceFeedAbi } from './generated/contracts.ts'

/** Seed of the devnet's random walk when none is given: the same price history on every devnet. */
export const DEVNET_WALK_SEED = 0x636f6d6d6f6e73n // "commons"


/** One post of the devnet updater: the next step of the seeded walk from the latest answer. */
export async function postWalkStep (clients: Clients, deployment: Deployment, seed: bigint = DEVNET_WALK_SEED): Promise<{ roundId: bigint, answer: bigint }> {
  const feed = deployment.contracts.priceFeed
  const latest = await clients.public.readContract({ address: feed, abi: priceFeedAbi, functionName: 'latestRound' })
  const previous = latest === 0n ? FEED_FIRST_ANSWER : await clients.public.readContract({ address: feed, abi: priceFeedAbi, functionName: 'getAnswer', args: [latest] })
  if (clients.public.chain.id === DEVNET_CHAIN_ID) await keepClockAhead(clients.public)
  const answer = nextWalkAnswer(seed, previous, latest + 1n)
  const { roundId } = await updatePrice(clients, deployment, answer)
  return { roundId, answer }
}

export interface FeedUpdaterInit {
  /** Seconds between posts. */
  interval: number
  seed?: bigint
  /**
   * Where to post, asked again before every post, so a devnet restarted or redeployed
   * under the updater is picked up; null while there is nothing to post to yet.
   */
  target: () => Promise<{ clients: Clients, deployment: Deployment } | null>
  /** Stops the loop (it returns after the post in flight, if any). */
  signal: AbortSignal
  /** One line per post, wait and failure. */
  log?: (line: string) => void
}

function sleep (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal.aborted) { resolve(); return }
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done)
  })
}

/**
 * The devnet updater: posts the next step of the seeded walk every `interval` seconds
 * until `signal` aborts, so a running devnet always has a fresh price. A failed post
 * (chain restarting, deployment replaced, role not granted) is logged and tried again
 * on the next tick; the loop itself never throws.
 */
export async function runFeedUpdater (init: FeedUpdaterInit): Promise<void> {
  const log = init.log ?? (() => {})
  let waiting = false
  let lastFailure = ''
  while (!init.signal.aborted) {
    try {
      const target = await init.target()
      if (target === null) {
        if (!waiting) log('waiting for a deployment to post to')
        waiting = true
      } else {
        waiting = false
        const { roundId, answer } = await postWalkStep(target.clients, target.deployment, init.seed)
        log(`round ${roundId}: ${answer}`)
        lastFailure = ''
      }
    } catch (error) {
      // The same failure every tick (e.g. a key without the role) is logged once.
      const details = (error as { details?: { error?: unknown } }).details
      const kind = `${(error as Error).name}:${String(details?.error ?? (error as Error).message)}`
      if (kind !== lastFailure) log(`post failed: ${(error as Error).name}: ${(error as Error).message}`)
      lastFailure = kind
    }
    await sleep(init.interval * 1000, init.signal)
  }
}
