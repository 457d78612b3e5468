import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import { connect, findDeploymentBlock } from '@commons/chain'
import { openStore } from '@commons/store'
import type { NodeComponents, NodeOptions } from './context.ts'
import { createNode, type CommonsNode } from './createNode.ts'
import { loadOrCreateKey } from './keystore.ts'
import { lockHome } from './lock.ts'
import { startNetwork } from './network.ts'
import { createNodeKey } from './nodeKey.ts'
import { NodeState } from './state.ts'

/**
 * Starts a node under `options.home` (what `commons node start` runs): makes its
 * components there (the Ethereum key from the keystore, the peer key, the store, the
 * network, the SQLite state) and calls createNode; stopping the node closes them too.
 */
export async function startNode (options: NodeOptions): Promise<CommonsNode> {
  const log = options.log ?? (() => {})
  await mkdir(join(options.home, 'node'), { recursive: true })
  // Two nodes on one home would spend from one key and write one state: refused.
  const lock = await lockHome(join(options.home, 'node', 'node.lock'))
  const cleanups: Array<() => Promise<void>> = [async () => lock.release()]
  let started = false
  try {
    const { components, init } = await homeComponents(options, log, cleanups)
    const node = await createNode(components, init)
    started = true
    return {
      ...node,
      async stop () {
        await node.stop()
        for (const cleanup of cleanups.reverse()) await cleanup()
      }
    }
  } finally {
    if (!started) for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  }
}

/** The components of a node under `options.home`; `cleanups` gets how to close each, in the order made. */
async function homeComponents (options: NodeOptions, log: (line: string) => void, cleanups: Array<() => Promise<void>>): Promise<{ components: NodeComponents, init: NodeOptions }> {
  const { privateKey } = await loadOrCreateKey(join(options.home, 'node', 'keystore.json'), { password: options.password, scryptN: options.scryptN })
  const peerKeyPath = join(options.home, 'node', 'peer.key')
  const peerKey = await readFile(peerKeyPath).then(b => new Uint8Array(b), async () => {
    const key = await createNodeKey()
    await writeFileAtomic(peerKeyPath, Buffer.from(key), { mode: 0o600 })
    return key
  })
  const clients = await connect(options.rpcUrl, privateKey, { receiptTimeoutMs: options.receiptTimeoutMs })
  if ((options.deployment.block as string | undefined) === undefined) {
    // An older manifest: every log query starts at the deployment block, so find it.
    const block = await findDeploymentBlock(clients, options.deployment.contracts.market)
    log(`the deployment manifest names no deployment block; found ${block} (add "block": "${block}" to deployment.json)`)
    options = { ...options, deployment: { ...options.deployment, block: String(block) } }
  }
  const store = await openStore(options.home)
  cleanups.push(async () => store.close())
  const network = await startNetwork({ blockstore: store.blocks, privateKey: peerKey, listen: options.listen, bootstrap: options.bootstrap })
  cleanups.push(async () => network.stop())
  const state = new NodeState(join(options.home, 'node', 'state.db'))
  cleanups.push(async () => { state.close() })
  return { components: { clients, store, network, state, engine: options.engine }, init: options }
}
