import type { CID } from 'multiformats/cid'
import { startExplorer, type RunningExplorer } from '@commons/explorer'
import { DEFAULT_FETCH_TIMEOUT_MS } from './constants.ts'
import type { NodeComponents, NodeInit } from './context.ts'

/**
 * The explorer served by a running node (`commons node start --explorer-port P`): it
 * indexes the node's chain into `<home>/explorer/index.db` and follows it live, reads
 * content from the node's own store (and any other store under the home), and fetches
 * what neither holds from the node's peers by CID over bitswap, every block checked
 * against its CID before it is stored or shown.
 */
export async function serveExplorer (components: Pick<NodeComponents, 'clients' | 'store' | 'network'>, init: NodeInit, port: number): Promise<RunningExplorer> {
  const { clients, store, network } = components
  return startExplorer({
    home: init.home,
    deployment: init.deployment,
    clients,
    stores: [store],
    port,
    // The node starts without waiting for the first indexing: the pages fill in as it goes.
    indexFirst: false,
    pollMs: init.pollMs,
    log: init.log,
    fetchContent: async (cid: CID) => {
      await network.fetchDag(cid, { timeoutMs: init.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS })
    }
  })
}
