import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { connect, deploy, devnetAccount, startDevnet, updatePrice, type Clients, type Deployment, type Devnet } from '@commons/chain'
import { commitVersion, initDataset, listFiles, readVersion } from '@commons/store'
import { startNode, type CommonsNode } from './node.ts'
import { until } from './testing/until.ts'

/**
 * `commons node start --explorer-port`: the node serves the explorer, whose index follows
 * the chain live, and whose content the node's store lacks comes from its peers by CID.
 * The attack: a peer that serves a version with one block swapped for other bytes gets
 * nothing of it shown, nor kept, by the explorer.
 */

let root: string
let devnet: Devnet
let bank: Clients
let deployment: Deployment
let holder: CommonsNode
let viewer: CommonsNode
let version: string
let planted: string
let plantedBlock: CID
const ROWS = '{"text": "the first row"}\n{"text": "the second row"}\n'

async function commitDir (node: CommonsNode, name: string, rows: string): Promise<string> {
  const dir = join(root, `source-${name}`)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'rows.jsonl'), rows)
  await initDataset(node.store, name)
  return (await commitVersion(node.store, { name, path: dir, message: `${name} rows` })).cid.toString()
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-node-explorer-'))
  devnet = await startDevnet({ home: join(root, 'chain-home') })
  bank = await connect(devnet.rpcUrl, devnetAccount(0))
  deployment = { ...await deploy(bank), rpcUrl: devnet.rpcUrl }
  const common = { rpcUrl: devnet.rpcUrl, deployment, roles: ['requester' as const], password: 'x', scryptN: 2 ** 10, apiPort: false as const, pollMs: 200 }
  holder = await startNode({ ...common, home: join(root, 'holder') })
  version = await commitDir(holder, 'corpus', ROWS)
  // A second version whose one file block the holder serves with other bytes.
  planted = await commitDir(holder, 'planted', '{"text": "honest bytes"}\n')
  const [file] = await listFiles(holder.store.blocks, (await readVersion(holder.store.blocks, CID.parse(planted))).tree)
  plantedBlock = file.cid
  await holder.store.blocks.put(file.cid, new TextEncoder().encode('{"text": "planted bytes"}\n'))
  viewer = await startNode({ ...common, home: join(root, 'viewer'), explorerPort: 0, fetchTimeoutMs: 3000, bootstrap: [holder.network.multiaddrs()[0]] })
  await until('the viewer is connected to the holder', () => viewer.network.peers().includes(holder.peerId), { timeoutMs: 30_000, everyMs: 50 })
}, { timeout: 120_000 })

after(async () => {
  await viewer?.stop()
  await holder?.stop()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
})

const get = async (path: string): Promise<Response> => fetch(new URL(path, viewer.explorer?.url))

describe('a node serving the explorer', () => {
  it('serves the pages and follows the chain live: a new price round appears without a restart', { timeout: 60_000 }, async () => {
    assert.ok(viewer.explorer !== null, 'the node says where the explorer is')
    const page = await get('/')
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type') ?? '', /text\/html/)
    await updatePrice(bank, deployment, 4321n * 10n ** 8n)
    await until('the explorer shows the new round', async () => {
      const price = await (await get('/api/price')).json() as { current: { answer: string } | null }
      return price.current?.answer === '4321.00000000'
    }, { timeoutMs: 30_000, everyMs: 200 })
  })

  it('fetches a version its node lacks from a peer by CID, and serves its files', { timeout: 60_000 }, async () => {
    assert.equal(await viewer.store.blocks.has(CID.parse(version)), false, 'the viewer starts without the version')
    const res = await get(`/api/versions/${version}`)
    assert.equal(res.status, 200)
    const view = await res.json() as { message: string, fileList: Array<{ path: string }> }
    assert.equal(view.message, 'corpus rows')
    assert.deepEqual(view.fileList.map(f => f.path), ['rows.jsonl'])
    assert.equal(await (await get(`/files/${version}/rows.jsonl`)).text(), ROWS)
    assert.equal(await viewer.store.blocks.has(CID.parse(version)), true, 'the node keeps what it fetched')
  })

  it('shows nothing of a version a peer serves with a planted block', { timeout: 60_000 }, async () => {
    const res = await get(`/files/${planted}/rows.jsonl`)
    assert.equal(res.status, 404)
    assert.equal((await res.json() as { error: { name: string } }).error.name, 'ContentMissingError')
    assert.equal(await viewer.store.blocks.has(plantedBlock), false, 'the planted bytes were not stored')
  })
})
