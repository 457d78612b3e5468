import type { Address } from 'viem'
import { readStorageDeal, storageWindow, type Clients, type Deployment } from '@commons/chain'

/**
 * The storage act's chain clock: it mines a few blocks every `blockMs`, as a chain would, but
 * holds while a storer that is up has something to do that a real epoch (hours) would
 * leave it time for and the demo's compressed one (seconds) might not: a proof owed in an
 * open window, or an open slot to take. So the act runs as fast as the nodes answer,
 * behind a slow RPC or on a loaded machine, and an honest storer is never slashed for
 * the demo's haste. A storer that is down is not waited for: its epoch passes.
 */
export interface StorageClock {
  stop: () => void
}

export interface StorageClockParams {
  bank: Clients
  deployment: Deployment
  dealId: bigint
  /** Storers that are up now (their addresses); read at each block. */
  live: () => Address[]
  blockMs: number
  /** The clock moves on after holding this long at one block (a storer that never answers). */
  maxHoldMs?: number
}

const BLOCKS_PER_TURN = 4

export function startStorageClock (p: StorageClockParams): StorageClock {
  let stopped = false
  let heldSince: number | null = null
  const busy = async (head: bigint): Promise<boolean> => {
    const deal = await readStorageDeal(p.bank, p.deployment, p.dealId)
    const live = new Set(p.live().map(a => a.toLowerCase()))
    const holders = new Set(deal.slots.flatMap(s => s.provider === null ? [] : [s.provider.toLowerCase()]))
    // A storer that is up and holds no slot, while one is open: it is fetching or joining.
    if (deal.slots.some(s => s.provider === null) && [...live].some(a => !holders.has(a))) return true
    for (const s of deal.slots) {
      if (s.provider === null || !live.has(s.provider.toLowerCase()) || s.nextEpoch >= deal.terms.epochs) continue
      const { opens, closes } = await storageWindow(p.bank, p.deployment, p.dealId, s.nextEpoch)
      // The next block is inside the owed epoch's window, with a block to spare before it closes.
      if (head + 1n >= opens && head + 2n < closes) return true
    }
    return false
  }
  const step = async (): Promise<void> => {
    while (!stopped) {
      try {
        const head = await p.bank.public.getBlockNumber()
        const hold = await busy(head)
        heldSince = hold ? heldSince ?? Date.now() : null
        if (heldSince === null || Date.now() - heldSince > (p.maxHoldMs ?? 60_000)) {
          // A few blocks a turn: the reads above cost more than a block; a window (30 blocks) is never skipped.
          for (let i = 0; i < BLOCKS_PER_TURN; i++) await p.bank.public.request({ method: 'evm_mine' as never, params: [] as never })
        }
      } catch {
        // A read that failed (the chain is busy): the next turn tries again.
      }
      await new Promise(resolve => setTimeout(resolve, p.blockMs))
    }
  }
  step().catch(() => {})
  return { stop: () => { stopped = true } }
}
