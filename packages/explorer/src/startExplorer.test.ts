import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, deploy, devnetAccount, startDevnet, writeManifest, type Devnet } from '@commons/chain'
import { startExplorer, type RunningExplorer } from './startExplorer.ts'

/** The explorer on a fresh deployment (nothing happened yet) on anvil, and on a port already taken. */

let home: string
let devnet: Devnet
let explorer: RunningExplorer

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'commons-explorer-start-'))
  devnet = await startDevnet({ home: join(home, 'devnet') })
  const deployment = await deploy(await connect(devnet.rpcUrl, devnetAccount(0)))
  await writeManifest(join(home, 'chain', 'deployment.json'), { ...deployment, rpcUrl: devnet.rpcUrl })
  explorer = await startExplorer({ home })
})

after(async () => {
  await explorer?.stop()
  await devnet?.stop()
  await rm(home, { recursive: true, force: true })
})

describe('startExplorer', () => {
  it('serves a deployment where nothing happened yet: empty lists, the feed\'s first round, 404 by name', async () => {
    const get = async (path: string): Promise<Response> => fetch(new URL(path, explorer.url))
    for (const path of ['api/datasets', 'api/daos', 'api/jobs', 'api/disputes', 'api/accounts', 'api/services', 'api/storage']) {
      const res = await get(path)
      assert.equal(res.status, 200, path)
      assert.deepEqual(await res.json(), [], path)
    }
    assert.equal(((await (await get('api/price')).json()) as { rounds: unknown[] }).rounds.length, 1)
    const missing = await get('api/jobs/7')
    assert.equal(missing.status, 404)
    assert.equal(((await missing.json()) as { error: { name: string } }).error.name, 'NotIndexedError')
    const page = await get('')
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
    for (const asset of ['app.js', 'style.css', 'vendor/uPlot.iife.min.js', 'vendor/dagre.min.js']) assert.equal((await get(asset)).status, 200, asset)
    assert.equal((await get('../package.json')).status, 404, 'no file outside the fixed list is served')
  })

  it('indexes to the head as it is when refresh is called, also while an earlier run is still indexing', async () => {
    const rpc = async (method: string): Promise<string> => ((await (await fetch(devnet.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }) })).json()) as { result: string }).result
    await rpc('evm_mine') // a block to index: the run started next is still reading logs when the second block comes
    const earlier = explorer.refresh()
    await rpc('evm_mine')
    const head = BigInt(await rpc('eth_blockNumber'))
    const now = explorer.refresh()
    assert.ok(await now >= head, `indexed to ${await now}, the head was ${head} before refresh was called`)
    assert.ok(await earlier <= await now)
  })

  it('says so by name when its port is taken', async () => {
    const port = Number(new URL(explorer.url).port)
    await assert.rejects(startExplorer({ home, port }), { name: 'PortInUseError' })
  })
})
