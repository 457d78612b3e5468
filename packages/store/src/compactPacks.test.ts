import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { getVerifiedBlock } from './blocks.ts'
import { PackBlockstore } from './packBlockstore.ts'

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'testing', 'compactChild.ts')
const PACK_BYTES = 64 * 1024

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-compact-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

interface Stored { cid: CID, bytes: Uint8Array }

/** A store of ~20 packs whose every other block is deleted: half of each pack is dead. */
async function storeWithDeadSpace (name: string): Promise<{ dir: string, kept: Stored[], deleted: Stored[] }> {
  const dir = join(root, name)
  const store = new PackBlockstore(dir, { packBytes: PACK_BYTES, groupBytes: 16 * 1024 })
  await store.open()
  const blocks: Stored[] = []
  for (let i = 0; i < 600; i++) {
    const bytes = randomBytes(1500 + (i % 7) * 100)
    const cid = CID.createV1(raw.code, await sha256.digest(bytes))
    await store.put(cid, bytes)
    blocks.push({ cid, bytes })
  }
  const deleted = blocks.filter((_, i) => i % 2 === 1)
  for (const block of deleted) await store.delete(block.cid)
  await store.close()
  return { dir, kept: blocks.filter((_, i) => i % 2 === 0), deleted }
}

const packBytesOnDisk = async (dir: string): Promise<number> => {
  let total = 0
  for (const name of await readdir(join(dir, 'packs'))) total += (await stat(join(dir, 'packs', name))).size
  return total
}

/** Reopens the store: every kept block reads back (hash-checked), no deleted one does. */
async function assertIntact (dir: string, kept: Stored[], deleted: Stored[]): Promise<void> {
  const store = new PackBlockstore(dir, { packBytes: PACK_BYTES })
  await store.open()
  try {
    for (const block of kept) assert.ok(Buffer.from(await getVerifiedBlock(store, block.cid)).equals(block.bytes))
    for (const block of deleted) assert.equal(await store.has(block.cid), false)
  } finally {
    await store.close()
  }
}

async function runChild (dir: string, stage?: string, index?: number): Promise<{ code: number | null, signal: string | null, lines: unknown[] }> {
  const args = [CHILD, dir, String(PACK_BYTES), ...(stage === undefined ? [] : [stage, String(index)])]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const [code, signal] = await new Promise<[number | null, string | null]>(resolve => child.on('close', (c, s) => resolve([c, s])))
  return { code, signal, lines: out.split('\n').filter(line => line !== '').map(line => JSON.parse(line)) }
}

describe('pack compaction', () => {
  it('rewrites the live blocks of packs with dead space, frees the rest, and leaves nothing to do after', async () => {
    const { dir, kept, deleted } = await storeWithDeadSpace('plain')
    const before = await packBytesOnDisk(dir)
    const live = kept.reduce((sum, b) => sum + b.bytes.length, 0)
    const store = new PackBlockstore(dir, { packBytes: PACK_BYTES })
    await store.open()
    const result = await store.compact({ minDeadShare: 0 })
    assert.equal(result.liveBytes, live)
    assert.equal(result.deadBytes, before - live)
    assert.equal(result.reclaimedBytes, before - live)
    assert.equal(result.movedBlocks, kept.length)
    assert.equal(await packBytesOnDisk(dir), live)
    const again = await store.compact({ minDeadShare: 0 })
    assert.equal(again.compacted, 0)
    await store.close()
    await assertIntact(dir, kept, deleted)
  })

  it('leaves a pack alone while a running process appends to it, and packs under the dead share', async () => {
    const { dir, kept } = await storeWithDeadSpace('busy')
    const writer = new PackBlockstore(dir, { packBytes: 1 << 30 })
    await writer.open()
    const bytes = randomBytes(3000)
    const cid = CID.createV1(raw.code, await sha256.digest(bytes))
    await writer.put(cid, bytes)
    await writer.delete(cid) // its pack is all dead, but this process still writes to it
    const compactor = new PackBlockstore(dir, { packBytes: PACK_BYTES })
    await compactor.open()
    assert.equal((await compactor.compact({ minDeadShare: 0.9 })).compacted, 0, 'no pack is 90% dead but the writer\'s')
    const result = await compactor.compact({ minDeadShare: 0 })
    assert.equal(result.busy, 1)
    assert.ok(result.compacted > 0)
    await compactor.close()
    await writer.close()
    await assertIntact(dir, kept, [])
  })

  it('refuses to run beside another compaction of the store', async () => {
    const { dir } = await storeWithDeadSpace('locked')
    await writeFile(join(dir, 'compact.lock'), String(process.pid))
    const store = new PackBlockstore(dir, { packBytes: PACK_BYTES })
    await store.open()
    await assert.rejects(store.compact(), { name: 'CompactionBusyError' })
    // A lock whose process is gone is taken over.
    await writeFile(join(dir, 'compact.lock'), '999999999')
    assert.ok((await store.compact({ minDeadShare: 0 })).compacted > 0)
    await store.close()
  })

  for (const [stage, index] of [['copied', 0], ['renamed', 0], ['indexed', 0], ['removed', 0], ['indexed', 5]] as const) {
    it(`loses nothing when its process is killed after step "${stage}" of pack ${index}, and the next run finishes the work`, async () => {
      const { dir, kept, deleted } = await storeWithDeadSpace(`kill-${stage}-${index}`)
      const killed = await runChild(dir, stage, index)
      assert.equal(killed.signal, 'SIGKILL')
      await assertIntact(dir, kept, deleted)
      const finished = await runChild(dir)
      assert.equal(finished.code, 0)
      await assertIntact(dir, kept, deleted)
      assert.equal(await packBytesOnDisk(dir), kept.reduce((sum, b) => sum + b.bytes.length, 0), 'every dead byte, and what the kill left, is freed')
    })
  }

  it('loses nothing when killed from outside mid-way', async () => {
    const { dir, kept, deleted } = await storeWithDeadSpace('kill-outside')
    const child = spawn(process.execPath, [CHILD, dir, String(PACK_BYTES)], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>(resolve => child.stdout.once('data', () => { child.kill('SIGKILL'); resolve() }))
    await new Promise(resolve => child.on('close', resolve))
    await assertIntact(dir, kept, deleted)
    assert.equal((await runChild(dir)).code, 0)
    await assertIntact(dir, kept, deleted)
  })
})
