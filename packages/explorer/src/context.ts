import type { Hex } from 'viem'
import type { CID } from 'multiformats/cid'
import { hexToCid, type Clients, type Deployment } from '@commons/chain'
import type { ExplorerIndex } from './explorerIndex.ts'
import type { HomeBlocks } from './homeBlocks.ts'

/** What every view reads: the index, the chain (read-only calls), and the home's content. */
export interface ExplorerContext {
  index: ExplorerIndex
  clients: Clients
  deployment: Deployment
  content: HomeBlocks
  /**
   * Brings a DAG the home's stores lack into one of them, from peers by CID, every block
   * checked against its CID (a running node's bitswap); absent, such content is reported missing.
   */
  fetchContent?: (cid: CID) => Promise<void>
}

/** A CID kept on-chain as bytes, as its string (null for empty bytes or bytes that are no CID). */
export function cidString (hex: unknown): string | null {
  try {
    return hexToCid(String(hex) as Hex)?.toString() ?? null
  } catch {
    return null
  }
}

/** Where and when an event happened, for every row a page links to its transaction. */
export function at (e: { block: number, tx: string, time: number, gas: string, sender: string }): { block: number, tx: string, time: number, gas: string, from: string } {
  return { block: e.block, tx: e.tx, time: e.time, gas: e.gas, from: e.sender }
}

/** Which contract of the deployment an address is (market, registry, ...), or null for any other account. */
export function contractName (ctx: ExplorerContext, address: string): string | null {
  const found = Object.entries(ctx.deployment.contracts).find(([, a]) => typeof a === 'string' && a.toLowerCase() === address.toLowerCase())
  return found === undefined ? null : found[0]
}
