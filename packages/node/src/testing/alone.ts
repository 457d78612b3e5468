import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect, deploy, devnetAccount, startDevnet, type Clients, type Deployment, type Devnet } from '@commons/chain'
import { readRecipe, type Recipe } from '@commons/engine'
import { commitVersion, generateRows, initDataset, openStore, rowsToBytes, type Store } from '@commons/store'
import { startNetwork, type NetworkNode } from '../network.ts'
import { createNodeKey } from '../nodeKey.ts'
import { NodeState } from '../state.ts'
import { startRpcProxy } from './rpcProxy.ts'

/**
 * What a test of one role alone needs: a fresh anvil with the contracts, reached through a
 * proxy that refuses `eth_getLogs` over more than 1,000 blocks as hosted providers do (so
 * every such test also shows the role works behind that cap), and one node's
 * components in a temp dir (a store holding a small dataset version, a network with no
 * peers, a SQLite state). `close` closes them all and removes the dir.
 */
export interface Alone {
  root: string
  home: string
  devnet: Devnet
  bank: Clients
  deployment: Deployment
  store: Store
  network: NetworkNode
  state: NodeState
  /** The dataset version in `store`, and a recipe of 4 steps for it. */
  version: string
  recipe: Recipe
  close: () => Promise<void>
}

export async function startAlone (name: string): Promise<Alone> {
  const root = await mkdtemp(join(tmpdir(), `commons-${name}-alone-`))
  const home = join(root, name)
  const anvil = await startDevnet({ home: join(root, 'chain') })
  const proxy = await startRpcProxy({ target: anvil.rpcUrl, maxLogRange: 1000 })
  const devnet: Devnet = { ...anvil, rpcUrl: proxy.url }
  const bank = await connect(devnet.rpcUrl, devnetAccount(0))
  const deployment = { ...await deploy(bank), rpcUrl: devnet.rpcUrl }
  const store = await openStore(home)
  const network = await startNetwork({ blockstore: store.blocks, privateKey: await createNodeKey() })
  const state = new NodeState(join(home, 'state.db'))
  const source = join(root, 'corpus')
  await mkdir(source, { recursive: true })
  await writeFile(join(source, 'rows.jsonl'), rowsToBytes(generateRows(20_000, 5)))
  await initDataset(store, 'corpus')
  const version = (await commitVersion(store, { name: 'corpus', path: source, message: 'rows' })).cid.toString()
  const tiny = await readRecipe(fileURLToPath(new URL('../../../../recipes/tiny.json', import.meta.url)))
  const recipe: Recipe = { ...tiny, model: { ...tiny.model, layers: 1 } as Recipe['model'], batchSize: 2, steps: 4, checkpointInterval: 2 }
  return {
    root, home, devnet, bank, deployment, store, network, state, version, recipe,
    async close () {
      await network.stop()
      state.close()
      await store.close()
      await proxy.close()
      await anvil.stop()
      await rm(root, { recursive: true, force: true })
    }
  }
}
