import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startApi, type ApiServer } from './api.ts'
import { parseFault } from './faults.ts'
import { KeystoreError, loadOrCreateKey } from './keystore.ts'
import { NodeState } from './state.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-node-parts-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

describe('keystore', () => {
  it('creates an encrypted key once, opens it again, and refuses a wrong password without touching the file', async () => {
    const path = join(root, 'keys', 'keystore.json')
    const created = await loadOrCreateKey(path, { password: 'right', scryptN: 2 ** 10 })
    assert.equal(created.created, true)
    const file = await readFile(path, 'utf8')
    assert.ok(!file.includes(created.privateKey.slice(2)), 'the key is not stored in the clear')
    const opened = await loadOrCreateKey(path, { password: 'right' })
    assert.deepEqual(opened, { privateKey: created.privateKey, created: false })
    await assert.rejects(loadOrCreateKey(path, { password: 'wrong' }), KeystoreError)
    assert.equal(await readFile(path, 'utf8'), file)
    await assert.rejects(loadOrCreateKey(join(root, 'other.json'), { password: '' }), /no password/)
  })
})

describe('node state', () => {
  it('keeps jobs, runs, disputes and marks across a reopen, merging details', () => {
    const path = join(root, 'state', 'state.db')
    const state = new NodeState(path)
    state.setJob(3n, 'trainer', 'training', { fault: { kind: 'step', step: 1 } })
    state.setJob(3n, 'trainer', 'submitted', { runCid: 'bafy' })
    state.setRun({ jobId: '3', dir: '/runs/job-3', status: 'training', step: 20, runCid: null })
    state.setDispute(0n, 3n, 'trainer', 'traced', { step: 1 })
    state.setMeta('lastBlock', '42')
    state.close()
    const again = new NodeState(path)
    assert.deepEqual(again.job(3n, 'trainer')?.detail, { fault: { kind: 'step', step: 1 }, runCid: 'bafy' })
    assert.equal(again.job(3n, 'trainer')?.status, 'submitted')
    assert.equal(again.run(3n)?.step, 20)
    assert.equal(again.disputes()[0].status, 'traced')
    assert.equal(again.meta('lastBlock'), '42')
    again.close()
  })
})

describe('HTTP API', () => {
  let state: NodeState
  let api: ApiServer
  before(async () => {
    state = new NodeState(join(root, 'api', 'state.db'))
    api = await startApi(state, () => ({ address: '0xabc', roles: ['validator'] }))
  })
  after(async () => { await api.close(); state.close() })

  it('answers status, jobs, one job, runs and disputes as JSON, and 404/405 with a reason', async () => {
    const get = async (path: string, init?: RequestInit): Promise<{ status: number, body: unknown }> => {
      const response = await fetch(`${api.url}${path}`, init)
      return { status: response.status, body: await response.json() }
    }
    assert.deepEqual(await get('/status'), { status: 200, body: { address: '0xabc', roles: ['validator'] } })
    assert.equal((await get('/jobs/7')).status, 404)
    state.setJob(7n, 'validator', 'attested')
    const job = await get('/jobs/7')
    assert.equal(job.status, 200)
    assert.equal((job.body as Array<{ status: string }>)[0].status, 'attested')
    assert.equal(((await get('/jobs')).body as unknown[]).length, 1)
    assert.deepEqual((await get('/runs')).body, [])
    assert.deepEqual((await get('/disputes')).body, [])
    const missing = await get('/nope')
    assert.equal(missing.status, 404)
    assert.match((missing.body as { error: string }).error, /no route/)
    assert.equal((await get('/jobs', { method: 'POST' })).status, 405)
  })
})

describe('fault specs', () => {
  it('parses every form and rejects what is not one', () => {
    assert.deepEqual(parseFault('step=3,op=10,element=5', 9), { kind: 'step', step: 3, op: 10, element: 5, seed: 9 })
    assert.deepEqual(parseFault('step', 2), { kind: 'step', step: undefined, op: undefined, element: undefined, seed: 2 })
    assert.deepEqual(parseFault('op=4'), { kind: 'step', step: undefined, op: 4, element: undefined, seed: 1 })
    assert.deepEqual(parseFault('init'), { kind: 'init', slot: undefined, element: undefined, seed: 1 })
    for (const bad of ['step=x', 'init,op=3', 'slot=2', 'steps=3']) assert.throws(() => parseFault(bad), /fault/)
  })
})
