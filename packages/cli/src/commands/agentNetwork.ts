import { mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import type { AgentsReach, SeenAgent, ToolContext } from '@commons/agent'
import type { NetworkNode } from '@commons/node'
import type { Store } from '@commons/store'
import type { LocalAccount } from 'viem'

/**
 * The agent's A2A state under a home: `agent/peer.key` (the peer id `commons agent serve`
 * keeps across restarts; not the node's, which may run beside it) and `agent/agents.json`
 * (the cards it has seen, for `commons agent list` and the tools of other processes).
 */
export const agentsFile = (home: string): string => join(home, 'agent', 'agents.json')

export async function readSeenAgents (home: string): Promise<SeenAgent[]> {
  try {
    return JSON.parse(await readFile(agentsFile(home), 'utf8')) as SeenAgent[]
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

export async function writeSeenAgents (home: string, agents: SeenAgent[]): Promise<void> {
  await mkdir(dirname(agentsFile(home)), { recursive: true })
  await writeFileAtomic(agentsFile(home), `${JSON.stringify(agents, null, 2)}\n`)
}

export async function agentPeerKey (home: string): Promise<Uint8Array> {
  const path = join(home, 'agent', 'peer.key')
  return readFile(path).then(b => new Uint8Array(b), async () => {
    const { createNodeKey } = await import('@commons/node')
    const key = await createNodeKey()
    await mkdir(dirname(path), { recursive: true })
    await writeFileAtomic(path, Buffer.from(key), { mode: 0o600 })
    return key
  })
}

/**
 * `ctx` with other agents in reach: the agents `commons agent serve` has seen on this
 * home, asked over a network of this process's own, started on first use.
 */
export async function withHomeAgents (ctx: ToolContext, home: string, bootstrap: string[] = []): Promise<ToolContext> {
  const { agentsReach } = await import('@commons/agent')
  let network: Promise<NetworkNode> | undefined
  const open = async (): Promise<NetworkNode> => {
    const { startNetwork } = await import('@commons/node')
    return startNetwork({ blockstore: (await ctx.store()).blocks, bootstrap })
  }
  const reach: AgentsReach = agentsReach(async () => await (network ??= open()), async () => readSeenAgents(home))
  return {
    ...ctx,
    agents: async () => reach,
    close: async () => {
      if (network !== undefined) await (await network.catch(() => null))?.stop()
      await ctx.close()
    }
  }
}

/**
 * The agent's A2A side of `commons node start`, on the node's own network, store and
 * account: its card on gossip, tasks answered from its notes, notes shared. A failure
 * here is said in the log and leaves the node running: its roles do not depend on it.
 */
export async function startNodeAgent (home: string, node: { address: string, network: NetworkNode, store: Store, clients: { account: unknown } }, log: (line: string) => void): Promise<{ stop: () => Promise<void> }> {
  try {
    const { startA2a } = await import('@commons/agent')
    const a2a = await startA2a({
      network: node.network, store: node.store, account: node.clients.account as LocalAccount, name: node.address, log,
      onAgents: agents => { writeSeenAgents(home, agents).catch(() => {}) }
    })
    log(`agent card published; A2A over libp2p and ${a2a.http.url}`)
    return a2a
  } catch (error) {
    log(`the node's agent did not start: ${(error as Error).message}`)
    return { stop: async () => {} }
  }
}
