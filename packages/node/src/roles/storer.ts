import { formatEther } from 'viem'
import {
  checkStorageProvable, joinStorageDeal, listStorageDeals, proveStorage, readStake, releaseStorageSlot, reportMissedStorage, storageWindow, type StorageDeal
} from '@commons/chain'
import { DEFAULT_POLL_MS } from '../constants.ts'
import { isMe, isRole, timed, type Context, type Service } from '../context.ts'

/**
 * The storer: keeps dataset versions that storage deals pay for (docs/storage.md). Each
 * look at the chain it
 *   - reports slots whose provider let an epoch pass without a proof (the slot opens),
 *   - takes an open slot of a deal it does not serve yet, once it has fetched the whole
 *     version over bitswap and its free stake covers the collateral,
 *   - proves, in each epoch's window, the leaf the challenge draws, from its own blocks,
 *   - releases its collateral once it has proven the deal's last epoch.
 * Its blocks are served to peers by the node's bitswap like any other.
 */

export interface StorerStats {
  joined: number
  proofs: number
  reported: number
  failed: number
  gas: bigint[]
}

export function storerService (ctx: Context, stats: StorerStats): Service {
  let timer: NodeJS.Timeout | null = null
  let busy = false
  /** Versions fetched whole into this node's store, by CID. */
  const held = new Set<string>()
  /** Versions some challenge of which no transaction could answer: never joined. */
  const unprovable = new Set<string>()

  const tick = async (): Promise<void> => {
    const head = await ctx.clients.public.getBlockNumber()
    for (const deal of await listStorageDeals(ctx.clients, ctx.options.deployment)) {
      if (ctx.stopped()) return
      const mine = deal.slots.findIndex(s => s.provider !== null && isMe(ctx, s.provider))
      if (mine !== -1 && deal.slots[mine].nextEpoch >= deal.terms.epochs) {
        await release(deal, mine)
        continue
      }
      if (head >= deal.startBlock + BigInt(deal.terms.epochs) * BigInt(deal.terms.epochBlocks)) continue
      await reportMisses(deal, head)
      if (mine === -1) await maybeJoin(deal)
      else await maybeProve(deal, mine, head)
    }
  }

  const reportMisses = async (deal: StorageDeal, head: bigint): Promise<void> => {
    for (const [slot, s] of deal.slots.entries()) {
      if (s.provider === null || isMe(ctx, s.provider) || s.nextEpoch >= deal.terms.epochs) continue
      const { closes } = await storageWindow(ctx.clients, ctx.options.deployment, deal.id, s.nextEpoch)
      if (head < closes) continue
      // Another node may report it first: then this report reverts, and the slot is open anyway.
      const reported = await timed(ctx, 'chain', async () => reportMissedStorage(ctx.clients, ctx.options.deployment, deal.id, slot)).then(() => true, () => false)
      s.provider = null
      if (!reported) continue
      stats.reported += 1
      ctx.log(`storage deal ${deal.id}: slot ${slot} missed epoch ${s.nextEpoch}; reported, the slot is open`)
    }
  }

  /** Every epoch owed is proven: the collateral comes back. */
  const release = async (deal: StorageDeal, slot: number): Promise<void> => {
    await timed(ctx, 'chain', async () => releaseStorageSlot(ctx.clients, ctx.options.deployment, deal.id, slot))
    ctx.log(`storage deal ${deal.id}: served to its end; slot ${slot} released, collateral unlocked`)
  }

  const maybeJoin = async (deal: StorageDeal): Promise<void> => {
    const open = deal.slots.findIndex(s => s.provider === null)
    if (open === -1) return
    const stake = await readStake(ctx.clients, ctx.options.deployment, ctx.clients.account.address)
    if (stake.staked - stake.locked < deal.terms.collateral) return
    const version = deal.version.toString()
    if (unprovable.has(version)) return
    if (!held.has(version)) {
      const fetched = await timed(ctx, 'transfer', async () => ctx.network.fetchDag(deal.version, { timeoutMs: ctx.options.fetchTimeoutMs, signal: ctx.stopping }))
      held.add(version)
      ctx.log(`storage deal ${deal.id}: fetched ${version} (${fetched.blocks} blocks, ${fetched.bytes} bytes)`)
      // An honest storer is slashed for a challenge it cannot answer in one transaction: it does not join such a deal.
      try {
        await checkStorageProvable(ctx.store.blocks, deal.tree, undefined, { readLeaves: true })
      } catch (error) {
        unprovable.add(version)
        ctx.log(`storage deal ${deal.id}: not joining: ${(error as Error).message}`)
        return
      }
    }
    try {
      await timed(ctx, 'chain', async () => joinStorageDeal(ctx.clients, ctx.options.deployment, deal.id, open))
    } catch (error) {
      ctx.log(`storage deal ${deal.id}: could not take slot ${open}: ${(error as Error).message}`)
      return
    }
    stats.joined += 1
    ctx.log(`storage deal ${deal.id}: holding slot ${open} (collateral ${formatEther(deal.terms.collateral)})`)
  }

  const maybeProve = async (deal: StorageDeal, slot: number, head: bigint): Promise<void> => {
    const epoch = deal.slots[slot].nextEpoch
    if (epoch >= deal.terms.epochs) return
    const { opens, closes } = await storageWindow(ctx.clients, ctx.options.deployment, deal.id, epoch)
    // The proof lands in the next block: it must be inside [opens, closes).
    if (head + 1n < opens || head + 1n >= closes) return
    try {
      const { receipt, leaf } = await timed(ctx, 'chain', async () =>
        proveStorage(ctx.clients, ctx.options.deployment, ctx.store.blocks, { dealId: deal.id, slot, epoch, tree: deal.tree }))
      stats.proofs += 1
      stats.gas.push(receipt.gasUsed)
      ctx.log(`storage deal ${deal.id}: proved epoch ${epoch} with leaf ${leaf} (${receipt.gasUsed} gas)`)
    } catch (error) {
      stats.failed += 1
      ctx.log(`storage deal ${deal.id}: cannot prove epoch ${epoch}: ${(error as Error).message}`)
      // A block went missing from this node's store: fetch the version again for the epochs to come.
      if ((error as Error).name === 'VersionNotFoundError') {
        await ctx.network.fetchDag(deal.version, { timeoutMs: ctx.options.fetchTimeoutMs, signal: ctx.stopping }).catch(() => {})
      }
    }
  }

  const schedule = (): void => {
    timer = setTimeout(() => {
      if (ctx.stopped()) return
      if (!busy) {
        busy = true
        // On the node's event queue, so its transactions never race the other roles' moves.
        ctx.enqueue(async () => {
          try {
            await tick()
          } catch (error) {
            ctx.log(`storer: ${(error as Error).message}`)
          } finally {
            busy = false
          }
        })
      }
      schedule()
    }, ctx.options.pollMs ?? DEFAULT_POLL_MS)
  }

  return {
    start () {
      if (isRole(ctx, 'storer')) schedule()
    },
    stop () {
      if (timer !== null) clearTimeout(timer)
      timer = null
    }
  }
}
