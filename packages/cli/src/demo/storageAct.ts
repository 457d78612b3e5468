import { formatEther, parseEther, toHex, type Address } from 'viem'
import * as raw from 'multiformats/codecs/raw'
import {
  fundStorageActions, listStorageDeals, readStake, registerAndStake, transferTokens, type Action, type Clients, type Deployment, type StorageTerms
} from '@commons/chain'
import { openStore, parseCid } from '@commons/store'
import { peerIdBytes, type CommonsNode } from '@commons/node'

/**
 * The demo's storage act (`commons demo --storage`): the DAO pays two storer nodes to keep
 * its canonical version; both prove epoch after epoch; one loses its disk and goes down,
 * is reported and slashed; a third storer fetches the version over bitswap, takes the slot
 * and proves. Blocks are mined every 100 ms meanwhile, as a chain would.
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
  epochs: number
  proofs: number
  missed: number
  slashed: string
  gasPerProof: number
}

const TERMS: StorageTerms = { replicas: 2, epochs: 20, epochBlocks: 40, pricePerEpoch: parseEther('5'), collateral: parseEther('100'), slashBps: 5_000 }

export async function runStorageAct (p: StorageActParams): Promise<StorageSummary> {
  const { bank, deployment, say } = p
  say(`[storage] the DAO pays ${TERMS.replicas} storers to keep ${p.version}: ${TERMS.epochs} epochs of ${TERMS.epochBlocks} blocks, proven on-chain`)
  await p.pass({ actions: await fundStorageActions(deployment, p.holder.store.blocks, parseCid(p.version), TERMS), description: 'keep the canonical version: 2 replicas' })
  const storers: CommonsNode[] = []
  const storer = async (name: string): Promise<CommonsNode> => {
    const node = await p.start(name, ['storer'])
    await node.network.connect(p.holder.network.multiaddrs()[0])
    await bank.wallet.sendTransaction({ to: node.address, value: parseEther('10') })
    await transferTokens(bank, deployment, node.address, parseEther('500'))
    await registerAndStake(node.clients, deployment, { peerId: peerIdBytes(node.peerId), roles: [], amount: parseEther('300') })
    storers.push(node)
    return node
  }
  const miner = setInterval(() => { bank.public.request({ method: 'anvil_mine' as never, params: [toHex(1)] as never }).catch(() => {}) }, 100)
  try {
    const [first, second] = [await storer('storer-1'), await storer('storer-2')]
    await p.until('both storers to prove two epochs', async () => first.storage.proofs >= 2 && second.storage.proofs >= 2)
    say(`      storer-1 and storer-2 proved ${first.storage.proofs + second.storage.proofs} epochs; storer-2 loses its disk and goes down`)
    const staked = (await readStake(bank, deployment, second.address)).staked
    await second.stop()
    // Its disk, opened again (the stopped node closed its store): every raw leaf is gone.
    const disk = await openStore(second.store.home)
    try {
      for await (const { cid } of disk.blocks.getAll()) if (cid.code === raw.code) await disk.blocks.delete(cid)
    } finally {
      await disk.close()
    }
    const third = await storer('storer-3')
    await p.until('storer-3 to take the open slot and prove', async () => third.storage.proofs >= 1)
    const slashed = staked - (await readStake(bank, deployment, second.address)).staked
    const gas = storers.flatMap(s => s.storage.gas)
    const summary: StorageSummary = {
      deals: (await listStorageDeals(bank, deployment)).length,
      epochs: TERMS.epochs,
      proofs: storers.reduce((sum, s) => sum + s.storage.proofs, 0),
      missed: storers.reduce((sum, s) => sum + s.storage.reported, 0),
      slashed: formatEther(slashed),
      gasPerProof: gas.length === 0 ? 0 : Math.round(gas.reduce((sum, g) => sum + Number(g), 0) / gas.length)
    }
    say(`      ${summary.proofs} proofs (${summary.gasPerProof} gas each on average), ${summary.missed} missed epoch reported, ${summary.slashed} COM slashed to the DAO; storer-3 holds the slot`)
    return summary
  } finally {
    clearInterval(miner)
  }
}
