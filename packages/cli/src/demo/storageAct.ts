import { formatEther, parseEther, type Address } from 'viem'
import * as raw from 'multiformats/codecs/raw'
import {
  fundStorageActions, listStorageDeals, readStake, registerAndStake, storageEpoch, transferTokens, type Action, type Clients, type Deployment, type StorageTerms
} from '@commons/chain'
import { openStore, parseCid } from '@commons/store'
import { peerIdBytes, type CommonsNode } from '@commons/node'
import { startStorageClock } from './storageClock.ts'

/**
 * The demo's storage act (part of `npm start`; `commons demo --no-storage` leaves it out):
 * the DAO pays two storer nodes to keep its canonical version; both prove an epoch; one
 * loses its disk and goes down, is reported and slashed; a third storer fetches the
 * version over bitswap, takes the slot and proves. Blocks are mined every `BLOCK_MS`
 * meanwhile, by a clock that holds while a storer that is up owes a proof or is taking a
 * slot (demo/storageClock.ts): the act takes about four epochs of the shortest length the
 * market allows (its 32-block proof window), as fast as the nodes answer.
 */

export interface StorageActParams {
  bank: Clients
  deployment: Deployment
  /** The DAO that funds the deal, and how one of its proposals is passed. */
  dao: Address
  pass: (proposal: { actions: Action[], description: string }) => Promise<void>
  /** The node whose store holds the version (it serves the blocks). */
  holder: CommonsNode
  version: string
  /** Starts a node of the demo with these roles. */
  start: (name: string, roles: ['storer']) => Promise<CommonsNode>
  say: (line: string) => void
  until: (what: string, check: () => Promise<boolean>) => Promise<void>
}

export interface StorageSummary {
  deals: number
  /** Epochs of the deal that passed during the act. */
  epochs: number
  proofs: number
  missed: number
  slashed: string
  gasPerProof: number
  /** Wall-clock seconds the act took, the deal's proposal included. */
  seconds: number
}

const TERMS: StorageTerms = { replicas: 2, epochs: 20, epochBlocks: 32, pricePerEpoch: parseEther('5'), collateral: parseEther('100'), slashBps: 5_000 }
const BLOCK_MS = 50

export async function runStorageAct (p: StorageActParams): Promise<StorageSummary> {
  const { bank, deployment, say } = p
  const started = Date.now()
  say(`[storage] the DAO pays ${TERMS.replicas} storers to keep ${p.version}: ${TERMS.epochs} epochs of ${TERMS.epochBlocks} blocks, proven on-chain`)
  const storers: CommonsNode[] = []
  const up = async (name: string): Promise<CommonsNode> => {
    const node = await p.start(name, ['storer'])
    await node.network.connect(p.holder.network.multiaddrs()[0])
    return node
  }
  // The bank's transactions one after another (one nonce at a time), each node's own stake.
  const fund = async (node: CommonsNode): Promise<CommonsNode> => {
    await bank.wallet.sendTransaction({ to: node.address, value: parseEther('10') })
    await transferTokens(bank, deployment, node.address, parseEther('500'))
    await registerAndStake(node.clients, deployment, { peerId: peerIdBytes(node.peerId), roles: [], amount: parseEther('300') })
    storers.push(node)
    return node
  }
  // The two storers are up and staked before the deal exists: they join in its first epoch.
  // The third is up too, with nothing staked: it cannot take a slot until it is funded.
  const [one, two, spare] = await Promise.all([up('storer-1'), up('storer-2'), up('storer-3')])
  const [first, second] = [await fund(one), await fund(two)]
  await p.pass({ actions: await fundStorageActions(deployment, p.holder.store.blocks, parseCid(p.version), TERMS), description: 'keep the canonical version: 2 replicas' })
  const [dealId] = (await listStorageDeals(bank, deployment)).slice(-1).map(d => d.id)
  const down = new Set<string>()
  const clock = startStorageClock({ bank, deployment, dealId, blockMs: BLOCK_MS, live: () => storers.filter(s => !down.has(s.address)).map(s => s.address) })
  try {
    await p.until('both storers to prove an epoch', async () => first.storage.proofs >= 1 && second.storage.proofs >= 1)
    say(`      storer-1 and storer-2 proved ${first.storage.proofs + second.storage.proofs} epochs; storer-2 loses its disk and goes down`)
    const staked = (await readStake(bank, deployment, second.address)).staked
    down.add(second.address)
    await second.stop()
    // Its disk, opened again (the stopped node closed its store): every raw leaf is gone.
    const disk = await openStore(second.store.home)
    try {
      for await (const { cid } of disk.blocks.getAll()) if (cid.code === raw.code) await disk.blocks.delete(cid)
    } finally {
      await disk.close()
    }
    const third = await fund(spare)
    await p.until('storer-3 to take the open slot and prove', async () => third.storage.proofs >= 1)
    const slashed = staked - (await readStake(bank, deployment, second.address)).staked
    const gas = storers.flatMap(s => s.storage.gas)
    const summary: StorageSummary = {
      deals: (await listStorageDeals(bank, deployment)).length,
      epochs: await storageEpoch(bank, deployment, dealId),
      proofs: storers.reduce((sum, s) => sum + s.storage.proofs, 0),
      missed: storers.reduce((sum, s) => sum + s.storage.reported, 0),
      slashed: formatEther(slashed),
      gasPerProof: gas.length === 0 ? 0 : Math.round(gas.reduce((sum, g) => sum + Number(g), 0) / gas.length),
      seconds: (Date.now() - started) / 1000
    }
    say(`      ${summary.proofs} proofs (${summary.gasPerProof} gas each on average), ${summary.missed} missed epoch reported, ${summary.slashed} COM slashed to the DAO; storer-3 holds the slot (${summary.seconds.toFixed(1)} s)`)
    return summary
  } finally {
    clock.stop()
  }
}
