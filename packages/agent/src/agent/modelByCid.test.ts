import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseRecipe, referenceContext, train, type Recipe } from '@commons/engine'
import { startNetwork, type NetworkNode } from '@commons/node'
import { commitVersion, initDataset, openStore, type Store } from '@commons/store'
import { modelByCid } from './modelByCid.ts'
import { openAgent } from './openAgent.ts'

/**
 * A model given by CID: the run another node published is fetched over libp2p into this
 * home (bitswap, every block checked), exported to GGUF once, and loaded by
 * node-llama-cpp; a CID that is not a run is refused with ModelFileError.
 */

const REPO = join(import.meta.dirname, '..', '..', '..', '..')
/** A directory committed as a version of its own dataset, as a trainer publishes its run. */
async function publish (store: Store, name: string, dir: string): Promise<string> {
  await initDataset(store, name)
  return (await commitVersion(store, { name, path: dir, message: name, author: 'test', time: 0 })).cid.toString()
}

let root: string
const stores: Store[] = []
const networks: NetworkNode[] = []
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-model-cid-')) })
after(async () => {
  await Promise.all(networks.map(async n => n.stop().catch(() => {})))
  await Promise.all(stores.map(async s => s.close()))
  await rm(root, { recursive: true, force: true })
})

describe('a model by CID', () => {
  it('is fetched from the peer that holds the run, exported to GGUF once, and loaded', { timeout: 180_000 }, async () => {
    const tiny = JSON.parse(await readFile(join(REPO, 'recipes', 'tiny.json'), 'utf8')) as Recipe
    const recipe = parseRecipe({ ...tiny, steps: 4, checkpointInterval: 4 })
    await train(referenceContext(), { recipe, tokens: Int32Array.from(Buffer.from('the tide is high at six; '.repeat(40))), data: { source: 'test' }, out: join(root, 'run') })
    const holder = await openStore(join(root, 'holder'))
    const mine = await openStore(join(root, 'mine'))
    stores.push(holder, mine)
    const cid = await publish(holder, 'run', join(root, 'run'))
    const peer = await startNetwork({ blockstore: holder.blocks })
    networks.push(peer)

    let started = 0
    const network = async (): Promise<NetworkNode> => {
      started++
      const n = await startNetwork({ blockstore: mine.blocks, bootstrap: peer.multiaddrs() })
      networks.push(n)
      return n
    }
    const dir = join(root, 'models')
    const path = await modelByCid(cid, { store: mine, dir, network })
    assert.equal(path, join(dir, `${cid}.gguf`))
    assert.equal(started, 1, 'the run was fetched over the network')
    assert.equal((await readFile(path)).subarray(0, 4).toString('latin1'), 'GGUF')
    assert.equal(await modelByCid(cid, { store: mine, dir }), path, 'the second time, the GGUF kept is used: no network')

    const agent = await openAgent({ modelPath: path, tools: [], gpu: false, maxTokens: 8 })
    try {
      const answer = await agent.ask('tide?')
      assert.ok(answer.tokens.output > 0, 'the fetched model writes')
    } finally {
      await agent.close()
    }
  })

  it('a CID that is not a run is refused with ModelFileError', { timeout: 60_000 }, async () => {
    const store = await openStore(join(root, 'other'))
    stores.push(store)
    const data = join(root, 'notarun')
    await mkdir(data)
    await writeFile(join(data, 'rows.txt'), 'not weights\n')
    const cid = await publish(store, 'notarun', data)
    await assert.rejects(modelByCid(cid, { store, dir: join(root, 'models-other') }), { name: 'ModelFileError' })
    await assert.rejects(modelByCid('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', { store, dir: join(root, 'models-other') }), { name: 'ModelFileError' }, 'not held, no network')
  })
})
