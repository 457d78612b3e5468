import type { Clients, Deployment } from '@commons/chain'
import type { Store } from '@commons/store'
import type { LocalAccount } from 'viem'
import type { AgentsReach } from './a2a/reach.ts'

/**
 * What the tools reach, each part opened on first use: a tool that only reads the store
 * never needs a chain, and `commons mcp` starts even when no devnet is up.
 */
export interface ToolContext {
  /** The home's store; opened once, closed by {@link ToolContext.close}. */
  store(): Promise<Store>
  /** Clients and the home's deployment, checked to have code. */
  chain(): Promise<{ clients: Clients, deployment: Deployment }>
  /** The account that signs what the user writes (knowledge notes). */
  signer(): Promise<LocalAccount>
  /** Other nodes' agents (A2A over libp2p); absent where no network runs: no agent is known. */
  agents?: () => Promise<AgentsReach>
  close(): Promise<void>
}

/** Parts of a context, each built at most once. */
export interface ToolContextParts {
  openStore: () => Promise<Store>
  connectChain: () => Promise<{ clients: Clients, deployment: Deployment }>
  signer: () => Promise<LocalAccount>
  agents?: () => Promise<AgentsReach>
  /** Closes what `agents` opened (a network started on first use). */
  closeAgents?: () => Promise<void>
}

/** A context whose parts are opened lazily and shared by every call. */
export function toolContext (parts: ToolContextParts): ToolContext {
  let store: Promise<Store> | undefined
  let chain: Promise<{ clients: Clients, deployment: Deployment }> | undefined
  return {
    store: async () => await (store ??= parts.openStore()),
    // A failed connection is not kept: the devnet may be started after the server.
    chain: async () => {
      chain ??= parts.connectChain()
      try {
        return await chain
      } catch (error) {
        chain = undefined
        throw error
      }
    },
    signer: parts.signer,
    agents: parts.agents,
    close: async () => {
      await parts.closeAgents?.()
      if (store !== undefined) await (await store.catch(() => null))?.close()
    }
  }
}
