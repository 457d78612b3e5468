import { mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import type { AgentsReach, SeenAgent, ToolContext } from '@commons/agent'
import type { NetworkNode } from '@commons/node'

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
