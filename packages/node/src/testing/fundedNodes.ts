import { join } from 'node:path'
import { parseEther } from 'viem'
import { transferTokens, type Clients, type Deployment } from '@commons/chain'
import { startNode, type CommonsNode } from '../node.ts'

type NodeOptions = Parameters<typeof startNode>[0]

export interface FundedNodes {
  /** Starts node `name` under `<root>/<name>` with these roles, funded with 5 ETH and 5,000 tokens by `bank`. */
  start: (name: string, roles: NodeOptions['roles'], extra?: Partial<NodeOptions>) => Promise<CommonsNode>
  /** Every node started, to stop at the end. */
  nodes: CommonsNode[]
  /** Their log lines, each prefixed with the node's name. */
  lines: string[]
}

/**
 * Nodes for tests and sweeps on a devnet: quick keys, no API, fast polling, each funded
 * from the devnet's bank account. `settings` are read when a node starts (they may be set
 * after this is made, once the devnet and deployment exist).
 */
export function fundedNodes (settings: () => { root: string, rpcUrl: string, deployment: Deployment, bank: Clients, defaults?: Partial<NodeOptions> }): FundedNodes {
  const nodes: CommonsNode[] = []
  const lines: string[] = []
  const start = async (name: string, roles: NodeOptions['roles'], extra: Partial<NodeOptions> = {}): Promise<CommonsNode> => {
    const { root, rpcUrl, deployment, bank, defaults } = settings()
    const node = await startNode({ home: join(root, name), rpcUrl, deployment, roles, password: 'x', scryptN: 2 ** 10, apiPort: false, pollMs: 200, log: line => lines.push(`${name}: ${line}`), ...defaults, ...extra })
    nodes.push(node)
    await bank.wallet.sendTransaction({ to: node.address, value: parseEther('5') })
    await transferTokens(bank, deployment, node.address, parseEther('5000'))
    return node
  }
  return { start, nodes, lines }
}
