import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import { parseEther } from 'viem'
import {
  createStorageDeal, fundStorageActions, InvalidChainInputError, joinStorageDeal, listStorageDeals, readStorageDeal, storageEscrow, storageWindow,
  type Action, type Clients, type Deployment, type StorageDeal, type StorageTerms
} from '@commons/chain'
import { defaultHome, openStore, resolveVersion } from '@commons/store'
import { deploymentOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit } from '../output.ts'
import { tokens } from '../revertText.ts'
import { amountOption, wholeOption } from '../optionParsers.ts'


const dealId = (value: string): bigint => {
  if (!/^\d+$/.test(value) || value === '0') throw new InvalidArgumentError(`a deal id is a whole number from 1, got "${value}"`)
  return BigInt(value)
}

interface CreateOptions { replicas: number, epochs: number, epochBlocks: number, price: string, collateral: string, slashBps: number }

const FUNDING_FIELDS = ['version', 'replicas', 'epochs', 'epochBlocks', 'price', 'collateral', 'slashBps']

/**
 * `dao propose --fund-storage FILE`: the proposal's calls for a deal paid from the treasury.
 * FILE is JSON: version (CID or dataset name of this home), replicas, epochs, epochBlocks,
 * price and collateral (in tokens), slashBps.
 */
export async function storageFundingActions (options: ChainOptions, deployment: Deployment, path: string): Promise<Action[]> {
  let json: Record<string, string | number>
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as Record<string, string | number>
  } catch (cause) {
    throw new InvalidChainInputError(`storage terms ${path} are not readable JSON`, { hint: `write a JSON object with ${FUNDING_FIELDS.join(', ')}`, cause })
  }
  const missing = FUNDING_FIELDS.find(field => json[field] === undefined)
  if (missing !== undefined) throw new InvalidChainInputError(`storage terms ${path} lack "${missing}"`, { hint: `the fields are ${FUNDING_FIELDS.join(', ')}` })
  const store = await openStore(resolve(options.home ?? defaultHome()))
  try {
    const version = await resolveVersion(store, String(json.version))
    const terms: StorageTerms = {
      replicas: Number(json.replicas), epochs: Number(json.epochs), epochBlocks: Number(json.epochBlocks),
      pricePerEpoch: parseEther(String(json.price)), collateral: parseEther(String(json.collateral)), slashBps: Number(json.slashBps)
    }
    return await fundStorageActions(deployment, store.blocks, version, terms)
  } finally {
    await store.close()
  }
}

/** One line per deal for people; the JSON form carries every field. */
function describe (deal: StorageDeal, head: bigint): string {
  const epoch = (head - deal.startBlock) / BigInt(deal.terms.epochBlocks)
  const slots = deal.slots.map((s, i) => `    slot ${i}: ${s.provider === null ? 'open' : `${s.provider}, owes epoch ${s.nextEpoch}`}`)
  return [
    `deal ${deal.id}: version ${deal.version}`,
    `  tree ${deal.tree}, funded by ${deal.funder}`,
    `  ${deal.terms.replicas} replicas × ${deal.terms.epochs} epochs of ${deal.terms.epochBlocks} blocks at ${tokens(deal.terms.pricePerEpoch)} per replica-epoch; now epoch ${epoch}`,
    `  escrow left ${tokens(deal.escrow)}, collateral ${tokens(deal.terms.collateral)} (${deal.terms.slashBps / 100}% slashed per miss)${deal.refunded ? ', refunded' : ''}`,
    `  held by ${deal.held} of ${deal.terms.replicas}${deal.held === 0 ? ' — NO PROVIDER HOLDS THIS DATA' : ''}`,
    ...slots
  ].join('\n')
}

/** What a signer owes: its slots, the epoch each owes and the window to prove it in. */
async function statusOf (clients: Clients, deployment: Deployment) {
  const me = clients.account.address.toLowerCase()
  const head = await clients.public.getBlockNumber()
  const deals = await listStorageDeals(clients, deployment)
  const mine = []
  for (const deal of deals) {
    for (const [slot, s] of deal.slots.entries()) {
      if (s.provider?.toLowerCase() !== me || s.nextEpoch >= deal.terms.epochs) continue
      const { opens, closes } = await storageWindow(clients, deployment, deal.id, s.nextEpoch)
      mine.push({ deal: deal.id, slot, owes: s.nextEpoch, opens, closes, missed: head >= closes })
    }
  }
  return {
    block: head,
    account: clients.account.address,
    deals: deals.length,
    unheld: deals.filter(d => d.held === 0 && !d.refunded).map(d => d.id),
    slots: mine
  }
}

/** `commons storage`: deals that pay providers to keep a dataset version (docs/storage.md). */
export function storageCommand (program: Command): void {
  const storage = program.command('storage').description('storage deals: a DAO (or anyone) pays staked providers to keep a dataset version, proven on-chain')
  const deal = storage.command('deal').description('create and read storage deals')

  withChainOptions(deal.command('create').argument('<version>', 'dataset version CID in this home\'s store, or a dataset name for its head'))
    .description('escrow price × epochs × replicas for a version; providers then join and prove each epoch')
    .option('--replicas <n>', 'providers that keep a copy', wholeOption('--replicas', { min: 1, max: 100 }), 2)
    .option('--epochs <n>', 'epochs the deal pays for', wholeOption('--epochs', { min: 1, max: 1_000_000 }), 30)
    .option('--epoch-blocks <n>', 'blocks per epoch (at least the market\'s proof window)', wholeOption('--epoch-blocks', { min: 1, max: 10_000_000 }), 64)
    .option('--price <tokens>', 'paid per replica per proven epoch', amountOption('--price'), '1')
    .option('--collateral <tokens>', 'stake a provider locks while it holds a slot', amountOption('--collateral'), '100')
    .option('--slash-bps <n>', 'part of the collateral a missed epoch costs, in basis points', wholeOption('--slash-bps', { min: 0, max: 10_000 }), 5_000)
    .action(async (ref: string, opts: CreateOptions, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const store = await openStore(resolve(options.home ?? defaultHome()))
      try {
        const version = await resolveVersion(store, ref)
        const terms: StorageTerms = {
          replicas: opts.replicas, epochs: opts.epochs, epochBlocks: opts.epochBlocks,
          pricePerEpoch: parseEther(opts.price), collateral: parseEther(opts.collateral), slashBps: opts.slashBps
        }
        const { dealId: id, receipt } = await createStorageDeal(clients, deployment, store.blocks, version, terms)
        emit(options, { dealId: id, version: version.toString(), escrow: storageEscrow(terms), terms, tx: receipt.transactionHash }, () =>
          `deal ${id} funded for ${version}: ${tokens(storageEscrow(terms))} escrowed; providers join with commons storage join ${id}`)
      } finally {
        await store.close()
      }
    })

  withChainOptions(deal.command('show').argument('<id>', 'deal id', dealId))
    .description('a deal\'s terms, escrow and slots')
    .action(async (id: bigint, _opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const found = await readStorageDeal(clients, deployment, id)
      const head = await clients.public.getBlockNumber()
      emit(options, found, () => describe(found, head))
    })

  withChainOptions(deal.command('list'))
    .description('every storage deal of the market')
    .action(async (_opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const deals = await listStorageDeals(clients, deployment)
      const head = await clients.public.getBlockNumber()
      emit(options, { deals }, () => deals.length === 0 ? 'no storage deals yet; fund one with commons storage deal create' : deals.map(d => describe(d, head)).join('\n'))
    })

  withChainOptions(storage.command('join').argument('<id>', 'deal id', dealId))
    .description('take an open slot of a deal (locks the collateral from your stake); a storer node proves it each epoch')
    .option('--slot <n>', 'which slot (default: the first open one)', wholeOption('--slot', { min: 0, max: 100 }))
    .action(async (id: bigint, opts: { slot?: number }, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const found = await readStorageDeal(clients, deployment, id)
      const slot = opts.slot ?? found.slots.findIndex(s => s.provider === null)
      if (slot === -1) {
        throw new InvalidChainInputError(`every slot of deal ${id} is held`, { hint: 'a slot opens when its provider misses an epoch; commons storage deal show ' + String(id) + ' shows them' })
      }
      const receipt = await joinStorageDeal(clients, deployment, id, slot)
      emit(options, { dealId: id, slot, provider: clients.account.address, tx: receipt.transactionHash }, () =>
        `${clients.account.address} holds slot ${slot} of deal ${id}; it owes a proof every epoch from the next one`)
    })

  withChainOptions(storage.command('status'))
    .description('the slots the signer holds, the epoch each owes and its proof window; deals no provider holds')
    .action(async (_opts: unknown, command: Command) => {
      const options = command.optsWithGlobals<ChainOptions>()
      const { clients, deployment } = await deploymentOf(options)
      const status = await statusOf(clients, deployment)
      emit(options, status, () => [
        `block ${status.block}; ${status.deals} deals; ${status.account} holds ${status.slots.length} slots`,
        ...status.slots.map(s => `  deal ${s.deal} slot ${s.slot}: owes epoch ${s.owes}, prove in blocks ${s.opens}–${s.closes - 1n}${s.missed ? ' (MISSED: anyone can report it)' : ''}`),
        ...(status.unheld.length > 0 ? [`deals no provider holds: ${status.unheld.join(', ')}`] : [])
      ].join('\n'))
    })
}
