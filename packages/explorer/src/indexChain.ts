import type { Abi, Hex } from 'viem'
import {
  commonsTokenAbi, datasetDaoAbi, datasetDaoFactoryAbi, disputeGameAbi, eventsInRanges, modelFileDisputesAbi, paymentChannelAbi, priceFeedAbi, scoringEpochsAbi,
  serviceRegistryAbi, stakeRegistryAbi, storageMarketAbi, trainingMarketAbi,
  DEFAULT_LOG_RANGE, findDeploymentBlock, type Clients, type Deployment
} from '@commons/chain'
import type { ExplorerIndex, NewEvent } from './explorerIndex.ts'

/**
 * Brings the index up to the chain's head: windows of at most `range` blocks from the
 * block after the last one indexed (the deployment block at first), each window's
 * events of every contract of the set and of every DAO known by then, with their
 * transactions' gas and their blocks' times, written in one transaction. A DAO made in
 * a window is read in that same window, after the factory's events that name it.
 */

export interface IndexChainOptions {
  range?: bigint
  /** Told after each window (long first runs on a public chain). */
  progress?: (indexedTo: bigint, head: bigint) => void
}

function staticContracts (deployment: Deployment): Array<{ contract: string, address: Hex, abi: Abi }> {
  const c = deployment.contracts
  return [
    { contract: 'daoFactory', address: c.daoFactory, abi: datasetDaoFactoryAbi },
    { contract: 'market', address: c.market, abi: trainingMarketAbi },
    { contract: 'disputeGame', address: c.disputeGame, abi: disputeGameAbi },
    { contract: 'registry', address: c.registry, abi: stakeRegistryAbi },
    { contract: 'priceFeed', address: c.priceFeed, abi: priceFeedAbi },
    { contract: 'token', address: c.token, abi: commonsTokenAbi },
    { contract: 'storageMarket', address: c.storageMarket, abi: storageMarketAbi },
    // Model-file disputes and the inference market's contracts are absent from manifests written before them.
    ...(c.modelFileDisputes === undefined ? [] : [{ contract: 'modelFileDisputes', address: c.modelFileDisputes, abi: modelFileDisputesAbi }]),
    ...(c.serviceRegistry === undefined ? [] : [{ contract: 'serviceRegistry', address: c.serviceRegistry, abi: serviceRegistryAbi }]),
    ...(c.paymentChannel === undefined ? [] : [{ contract: 'paymentChannel', address: c.paymentChannel, abi: paymentChannelAbi }]),
    ...(c.scoringEpochs === undefined ? [] : [{ contract: 'scoringEpochs', address: c.scoringEpochs, abi: scoringEpochsAbi }])
  ]
}

/** A busy window can name hundreds of transactions: a few requests at a time, as hosted providers allow. */
const BATCH = 8

async function inBatches<T, R> (items: T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += BATCH) out.push(...await Promise.all(items.slice(i, i + BATCH).map(read)))
  return out
}

/** What the index reads; raised when it reads more (model-file disputes: 2). */
const INDEX_VERSION = 2

/** Ties the index to one deployment: an index of another chain or contract set is cleared. */
export function bindIndex (index: ExplorerIndex, deployment: Deployment, chainId: number): void {
  // INDEX_VERSION: an index made before a contract was added to the set read is made again, not left without its events.
  const identity = `${chainId}:${deployment.contracts.market.toLowerCase()}:${deployment.block}:${INDEX_VERSION}`
  const bound = index.meta('deployment')
  if (bound === identity) return
  if (bound !== undefined) index.clear()
  index.setMeta('deployment', identity)
}

/**
 * The manifest's block is the head after the deployment's last transaction: the token's
 * first transfers and the feed's first round are older. The set's first contract (the
 * token) was deployed in the block the scan starts at, found by bisection.
 */
async function firstBlock (clients: Clients, deployment: Deployment): Promise<bigint> {
  const token = await findDeploymentBlock(clients, deployment.contracts.token)
  const manifest = BigInt(deployment.block)
  return token > 0n && token < manifest ? token : manifest
}

/** Indexes up to the head; returns the block indexed up to. */
export async function indexChain (clients: Clients, deployment: Deployment, index: ExplorerIndex, options: IndexChainOptions = {}): Promise<bigint> {
  const range = options.range ?? DEFAULT_LOG_RANGE
  const head = await clients.public.getBlockNumber()
  const last = index.meta('indexedTo')
  let from = last === undefined ? await firstBlock(clients, deployment) : BigInt(last) + 1n
  const contracts = staticContracts(deployment)
  while (from <= head) {
    const to = from + range - 1n < head ? from + range - 1n : head
    const events: NewEvent[] = []
    const read = async (contract: string, address: Hex, abi: Abi): Promise<void> => {
      for await (const window of eventsInRanges(clients, { address, abi, fromBlock: from, toBlock: to, range })) {
        for (const e of window.events) {
          events.push({ block: Number(e.blockNumber), logIndex: Number(e.logIndex), tx: e.transactionHash as string, contract, address, name: e.eventName, args: e.args })
        }
      }
    }
    for (const c of contracts) await read(c.contract, c.address, c.abi)
    const daos = new Set(index.daoAddresses())
    for (const e of events) if (e.contract === 'daoFactory' && e.name === 'DaoCreated') daos.add(String((e.args as { dao: string }).dao).toLowerCase())
    for (const dao of daos) await read('dao', dao as Hex, datasetDaoAbi)
    const txs = await inBatches([...new Set(events.map(e => e.tx))], async hash => {
      const receipt = await clients.public.getTransactionReceipt({ hash: hash as Hex })
      return { hash, sender: receipt.from, gas: receipt.gasUsed, block: Number(receipt.blockNumber) }
    })
    const blocks = await inBatches([...new Set(events.map(e => e.block))], async number => {
      const block = await clients.public.getBlock({ blockNumber: BigInt(number) })
      return { number, time: Number(block.timestamp) }
    })
    index.addWindow(events, txs, blocks, to)
    options.progress?.(to, head)
    from = to + 1n
  }
  return head
}
