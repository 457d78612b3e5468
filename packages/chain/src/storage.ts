import { bytesToHex, encodeFunctionData, type Address, type TransactionReceipt } from 'viem'
import type { CID } from 'multiformats/cid'
import type { BlockReader } from '@commons/store'
import { asRevertError, send, type Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import type { Action } from './dao.ts'
import { commonsTokenAbi, storageMarketAbi } from './generated/contracts.ts'
import { NotDeployedError } from './errors.ts'
import { buildStorageProof, dealCids, readVersionBlock } from './storageProof.ts'
import { receiptEvent } from './receiptEvent.ts'
import { checkStorageProvable } from './storageProofBound.ts'

/** A deal's terms, in the units StorageMarket takes (docs/storage.md). */
export interface StorageTerms {
  replicas: number
  epochs: number
  /** Blocks per epoch; at least the market's proof window. */
  epochBlocks: number
  /** Paid per replica per proven epoch. */
  pricePerEpoch: bigint
  /** Stake a provider locks while it holds a slot. */
  collateral: bigint
  /** Part of the collateral a missed epoch costs, in basis points. */
  slashBps: number
}

export interface StorageDeal {
  id: bigint
  funder: Address
  version: CID
  tree: CID
  startBlock: bigint
  terms: StorageTerms
  escrow: bigint
  held: number
  refunded: boolean
  slots: Array<{ provider: Address | null, nextEpoch: number }>
}

const ZERO = '0x0000000000000000000000000000000000000000'

function market (deployment: Deployment): Address {
  const address = deployment.contracts.storageMarket as Address | undefined
  if (address === undefined) {
    throw new NotDeployedError('this deployment has no StorageMarket (it predates storage deals)', { hint: 'deploy the contract set again: commons chain deploy' })
  }
  return address
}

/** What a full escrow costs: price × epochs × replicas. */
export function storageEscrow (terms: StorageTerms): bigint {
  return terms.pricePerEpoch * BigInt(terms.epochs) * BigInt(terms.replicas)
}

/**
 * The commit block of a version held in `blocks`, once its tree is checked to be provable:
 * every challenge draws a proof one transaction can carry (`StorageProofTooLargeError`).
 */
async function provableCommit (blocks: BlockReader, version: CID, maxProofGas?: number): Promise<Uint8Array> {
  const { commit, tree } = await readVersionBlock(blocks, version)
  await checkStorageProvable(blocks, tree, maxProofGas)
  return commit
}

/**
 * Escrows a deal for a version held in `blocks` (its commit block is sent); returns its id.
 * Refuses a version some challenge of which would cost more than `maxProofGas` (default
 * the transaction gas cap): its providers could not prove it however honest.
 */
export async function createStorageDeal (clients: Clients, deployment: Deployment, blocks: BlockReader, version: CID, terms: StorageTerms, maxProofGas?: number): Promise<{ dealId: bigint, receipt: TransactionReceipt }> {
  const commit = await provableCommit(blocks, version, maxProofGas)
  await send(clients, { address: deployment.contracts.token, abi: commonsTokenAbi, functionName: 'approve', args: [market(deployment), storageEscrow(terms)] })
  const receipt = await send(clients, { address: market(deployment), abi: storageMarketAbi, functionName: 'createDeal', args: [bytesToHex(commit), terms] })
  return { dealId: receiptEvent(receipt, storageMarketAbi, 'DealCreated').args.dealId, receipt }
}

/**
 * The calls of a DAO proposal that funds a deal from the treasury: approve the escrow, then
 * create the deal, so the DAO is its funder (slashes and the refund come back to it).
 * Refuses a version that cannot be proven, as `createStorageDeal` does.
 */
export async function fundStorageActions (deployment: Deployment, blocks: BlockReader, version: CID, terms: StorageTerms, maxProofGas?: number): Promise<Action[]> {
  const commit = await provableCommit(blocks, version, maxProofGas)
  return [
    { target: deployment.contracts.token, value: 0n, data: encodeFunctionData({ abi: commonsTokenAbi, functionName: 'approve', args: [market(deployment), storageEscrow(terms)] }) },
    { target: market(deployment), value: 0n, data: encodeFunctionData({ abi: storageMarketAbi, functionName: 'createDeal', args: [bytesToHex(commit), terms] }) }
  ]
}

/** A deal and its slots. */
export async function readStorageDeal (clients: Clients, deployment: Deployment, dealId: bigint): Promise<StorageDeal> {
  const read = clients.public.readContract
  const deal = await read({ address: market(deployment), abi: storageMarketAbi, functionName: 'dealInfo', args: [dealId] }).catch((error: unknown) => {
    throw asRevertError(error, `reading storage deal ${dealId}`)
  })
  const slots = []
  for (let slot = 0; slot < deal.terms.replicas; slot++) {
    const s = await read({ address: market(deployment), abi: storageMarketAbi, functionName: 'slotInfo', args: [dealId, BigInt(slot)] })
    slots.push({ provider: s.provider === ZERO ? null : s.provider, nextEpoch: s.nextEpoch })
  }
  const { version, tree } = dealCids(deal.version, deal.tree)
  return {
    id: dealId,
    funder: deal.funder,
    version,
    tree,
    startBlock: deal.startBlock,
    terms: { ...deal.terms },
    escrow: deal.escrow,
    held: deal.held,
    refunded: deal.refunded,
    slots
  }
}

/** Every deal of the market, oldest first. */
export async function listStorageDeals (clients: Clients, deployment: Deployment): Promise<StorageDeal[]> {
  const count = await clients.public.readContract({ address: market(deployment), abi: storageMarketAbi, functionName: 'dealCount' })
  const deals = []
  for (let id = 1n; id <= count; id++) deals.push(await readStorageDeal(clients, deployment, id))
  return deals
}

/** Takes an open slot (the caller's stake must cover the collateral). */
export async function joinStorageDeal (clients: Clients, deployment: Deployment, dealId: bigint, slot: number): Promise<TransactionReceipt> {
  return send(clients, { address: market(deployment), abi: storageMarketAbi, functionName: 'join', args: [dealId, BigInt(slot)] })
}

/** The epoch the chain is in for a deal (past its last epoch once it is over). */
export async function storageEpoch (clients: Clients, deployment: Deployment, dealId: bigint): Promise<number> {
  return clients.public.readContract({ address: market(deployment), abi: storageMarketAbi, functionName: 'epochOf', args: [dealId] })
}

/** Blocks `[opens, closes)` in which a proof for `epoch` counts. */
export async function storageWindow (clients: Clients, deployment: Deployment, dealId: bigint, epoch: number): Promise<{ opens: bigint, closes: bigint }> {
  const [opens, closes] = await clients.public.readContract({ address: market(deployment), abi: storageMarketAbi, functionName: 'proofWindowOf', args: [dealId, epoch] })
  return { opens, closes }
}

/**
 * Answers a slot's challenge for `epoch` from the blocks at hand: reads the drawn seed,
 * builds the path and proves. Throws `VersionNotFoundError` when the drawn leaf or a node
 * on its path is not in `blocks`.
 */
export async function proveStorage (clients: Clients, deployment: Deployment, blocks: BlockReader, params: { dealId: bigint, slot: number, epoch: number, tree: CID }): Promise<{ receipt: TransactionReceipt, leaf: CID, bytes: number }> {
  const seed = await clients.public.readContract({
    address: market(deployment), abi: storageMarketAbi, functionName: 'challengeSeed', args: [params.dealId, BigInt(params.slot), params.epoch], blockTag: 'pending'
  })
  const proof = await buildStorageProof(blocks, params.tree, seed)
  const receipt = await send(clients, {
    address: market(deployment), abi: storageMarketAbi, functionName: 'prove',
    args: [params.dealId, BigInt(params.slot), params.epoch, proof.nodes.map(n => bytesToHex(n)), bytesToHex(proof.leaf)]
  })
  return { receipt, leaf: proof.leafCid, bytes: proof.nodes.reduce((sum, n) => sum + n.length, proof.leaf.length) }
}

/** Reports a slot whose provider let its owed epoch pass; slashes it and opens the slot. */
export async function reportMissedStorage (clients: Clients, deployment: Deployment, dealId: bigint, slot: number): Promise<TransactionReceipt> {
  return send(clients, { address: market(deployment), abi: storageMarketAbi, functionName: 'reportMissed', args: [dealId, BigInt(slot)] })
}

/** Unlocks a provider's collateral once it has proven every epoch it owed. */
export async function releaseStorageSlot (clients: Clients, deployment: Deployment, dealId: bigint, slot: number): Promise<TransactionReceipt> {
  return send(clients, { address: market(deployment), abi: storageMarketAbi, functionName: 'release', args: [dealId, BigInt(slot)] })
}

/** Returns the unearned escrow of a finished deal to its funder. */
export async function refundStorageDeal (clients: Clients, deployment: Deployment, dealId: bigint): Promise<TransactionReceipt> {
  return send(clients, { address: market(deployment), abi: storageMarketAbi, functionName: 'refund', args: [dealId] })
}
