import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, readdir, readFile, readlink, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { PackBlockstore, writeBehind } from './packBlockstore.ts'
import { commitVersion, exportVersion, generateRows, getVerifiedBlock, initDataset, openStore, reportStoreMigrations, rowsToBytes, verifyVersion, writeDataset, type MigrationProgress, type Store } from './index.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-packs-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

async function rawBlock (bytes: Uint8Array): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(bytes))
}

async function read (store: Pick<PackBlockstore, 'get'>, cid: CID): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of store.get(cid)) parts.push(part)
  return Buffer.concat(parts)
}

describe('pack blockstore', () => {
  it('reads back every block, across a reopen and across pack files, and serves blocks not yet written', async () => {
    const dir = join(root, 'roundtrip')
    const store = new PackBlockstore(dir, { groupBytes: 64 * 1024, packBytes: 256 * 1024 })
    await store.open()
    const blocks = await Promise.all(Array.from({ length: 300 }, async (_, i) => {
      const bytes = randomBytes(500 + i * 13)
      return { cid: await rawBlock(bytes), bytes }
    }))
    const puts = blocks.map(async b => store.put(b.cid, b.bytes))
    // Put but not yet awaited: readable already (the importer reads what it just wrote).
    assert.ok((await read(store, blocks[0].cid)).equals(blocks[0].bytes))
    await Promise.all(puts)
    await store.close()
    assert.ok((await readdir(join(dir, 'packs'))).length > 1, 'a full pack is closed and a new one started')

    const reopened = new PackBlockstore(dir)
    await reopened.open()
    for (const b of blocks) assert.ok((await read(reopened, b.cid)).equals(b.bytes))
    const all = []
    for await (const pair of reopened.getAll()) all.push(pair.cid.toString())
    assert.deepEqual(all.sort(), blocks.map(b => b.cid.toString()).sort())
    await assert.rejects(store.putBehind(blocks[0].cid, blocks[0].bytes), /not open/, 'a put behind after close is refused, not queued and lost')
    await reopened.delete(blocks[5].cid)
    assert.equal(await reopened.has(blocks[5].cid), false)
    await assert.rejects(read(reopened, blocks[5].cid), { name: 'NotFoundError' })
    assert.equal(await reopened.has(blocks[6].cid), true)
    await reopened.close()
  })

  it('writes full groups on two lanes at once, each into a pack of its own, every byte once', async () => {
    const blocks = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const bytes = randomBytes(900 + i * 7)
      return { cid: await rawBlock(bytes), bytes }
    }))
    const total = blocks.reduce((sum, b) => sum + b.bytes.length, 0)
    for (const lanes of [1, 2]) {
      const dir = join(root, `lanes-${lanes}`)
      const store = new PackBlockstore(dir, { groupBytes: 16 * 1024, lanes })
      await store.open()
      // Queued behind: many groups fill and start before the first is written.
      for (const b of blocks) await store.putBehind(b.cid, b.bytes)
      await store.close()
      const packs = await readdir(join(dir, 'packs'))
      const sizes = await Promise.all(packs.map(async f => (await stat(join(dir, 'packs', f))).size))
      assert.equal(packs.length, lanes, `${lanes} lane(s): ${lanes} pack(s)`)
      assert.ok(sizes.every(size => size > 0), 'each lane wrote groups')
      assert.equal(sizes.reduce((a, b) => a + b, 0), total, 'every block written once')
      const reopened = new PackBlockstore(dir)
      await reopened.open()
      for (const b of blocks) assert.ok((await read(reopened, b.cid)).equals(b.bytes))
      await reopened.close()
    }
  })

  it('reads many blocks a range at a time: stored, pending and missing ones, each as get reads it', async () => {
    const dir = join(root, 'read-many')
    const store = new PackBlockstore(dir, { groupBytes: 64 * 1024 })
    await store.open()
    const blocks = await Promise.all(Array.from({ length: 300 }, async (_, i) => {
      const bytes = randomBytes(1_000 + (i % 7) * 300)
      return { cid: await rawBlock(bytes), bytes }
    }))
    for (const b of blocks.slice(0, 250)) await store.putBehind(b.cid, b.bytes)
    await store.close()

    const reopened = new PackBlockstore(dir)
    await reopened.open()
    // 250 stored in two lanes' packs, 50 pending (put, not yet written), one never stored.
    for (const b of blocks.slice(250)) await reopened.putBehind(b.cid, b.bytes)
    const absent = await rawBlock(randomBytes(100))
    const observed = await observeFileCalls(join(dir, 'probe'))
    let got: Array<PromiseSettledResult<Uint8Array>>
    try {
      got = await Promise.allSettled(reopened.readBlocks([...blocks.map(b => b.cid), absent]))
    } finally {
      observed.stop()
    }
    const reads = { count: observed.reads() }
    blocks.forEach((b, i) => {
      const result = got[i]
      assert.ok(result.status === 'fulfilled' && Buffer.from(result.value).equals(b.bytes), `block ${i} read as stored`)
    })
    const last = got[blocks.length]
    assert.ok(last.status === 'rejected' && (last.reason as Error).name === 'NotFoundError', 'a block not stored rejects')
    assert.ok(reads.count <= 4, `~400 KB of neighbouring blocks in a few reads, not 250 (${reads.count})`)
    await reopened.close()
  })

  it('stores leaves cut from one buffer in one call: runs across groups, duplicates once, indexed ones handed back', async () => {
    const dir = join(root, 'leaves')
    const store = new PackBlockstore(dir, { groupBytes: 20_000 })
    await store.open()
    const before = randomBytes(3_000)
    const beforeCid = await rawBlock(before)
    await store.put(beforeCid, before)
    // 40 leaves of 1,000-2,000 bytes; leaf 7 is the block stored before, leaf 30 repeats leaf 3.
    const pieces = Array.from({ length: 40 }, (_, i) => i === 7 ? before : randomBytes(1_000 + i * 25))
    pieces[30] = pieces[3]
    const bytes = Buffer.concat(pieces)
    const ends: number[] = []
    for (const piece of pieces) ends.push((ends.at(-1) ?? 0) + piece.length)
    const cids = await Promise.all(pieces.map(rawBlock))
    await assert.rejects(store.putLeavesBehind(bytes, ends, cids.slice(1)), RangeError, 'a CID short: refused before anything is queued')
    await assert.rejects(store.putLeavesBehind(bytes.subarray(1), ends, cids), RangeError, 'ends past the bytes: refused')
    assert.deepEqual(await store.putLeavesBehind(bytes, ends, cids), [7], 'the leaf already indexed is handed back, the pending duplicate is not')
    assert.ok((await read(store, cids[12])).equals(pieces[12]), 'readable before its group is written')
    await store.flush()
    await store.close()

    const reopened = new PackBlockstore(dir)
    await reopened.open()
    for (const [i, cid] of cids.entries()) assert.ok((await read(reopened, cid)).equals(pieces[i]), `leaf ${i}`)
    const packs = await readdir(join(dir, 'packs'), { recursive: true })
    const packBytes = (await Promise.all(packs.map(async f => (await stat(join(dir, 'packs', f))).size))).reduce((a, b) => a + b, 0)
    assert.equal(packBytes, bytes.length - pieces[30].length, 'every block written once: the stored one before, the duplicate not at all')
    await reopened.close()
  })

  it('writes a large group direct, at an aligned offset, between single puts written through the cache; all read back', async () => {
    const dir = join(root, 'direct')
    const store = new PackBlockstore(dir, { lanes: 1 })
    await store.open()
    const single = randomBytes(777)
    const singleCid = await rawBlock(single)
    await store.put(singleCid, single)
    // 3 MiB of leaves of ~5 KB: one group, past the size written direct.
    const pieces = Array.from({ length: 600 }, (_, i) => randomBytes(5_000 + i))
    const bytes = Buffer.concat(pieces)
    const ends: number[] = []
    for (const piece of pieces) ends.push((ends.at(-1) ?? 0) + piece.length)
    const cids = await Promise.all(pieces.map(rawBlock))
    await store.putLeavesBehind(bytes, ends, cids)
    await store.flush()
    const after = randomBytes(999)
    const afterCid = await rawBlock(after)
    await store.put(afterCid, after)
    await store.close()

    const reopened = new PackBlockstore(dir)
    await reopened.open()
    const first = reopened.locate(cids[0])
    assert.ok(first !== undefined)
    if (process.platform === 'linux') assert.equal(first.offset % 4096, 0, 'the group starts at an aligned offset')
    assert.equal(reopened.locate(afterCid)?.offset, first.offset + bytes.length, 'the next single put follows its last byte')
    assert.ok((await read(reopened, singleCid)).equals(single))
    assert.ok((await read(reopened, afterCid)).equals(after))
    for (const [i, cid] of cids.entries()) assert.ok((await read(reopened, cid)).equals(pieces[i]), `leaf ${i}`)
    let listed = 0
    for await (const _ of reopened.getAll()) listed++
    assert.equal(listed, pieces.length + 2)
    await reopened.close()
  })

  it('stores a block put in parts (views of received chunks) as its whole bytes, before and after it is written', async () => {
    const dir = join(root, 'parts')
    const store = new PackBlockstore(dir)
    await store.open()
    const chunks = [randomBytes(70_000), randomBytes(70_000)]
    // A block spanning two received chunks, as a fetcher hands it over; then one within a chunk.
    const spanning = [chunks[0].subarray(60_000), chunks[1].subarray(0, 50_000)]
    const whole = Buffer.concat(spanning)
    const cid = await rawBlock(whole)
    const inside = chunks[1].subarray(50_000, 60_000)
    const insideCid = await rawBlock(inside)
    await writeBehind(store).put(cid, spanning)
    await writeBehind(store).put(insideCid, [inside])
    assert.ok((await read(store, cid)).equals(whole), 'readable before its group is written')
    await store.flush()
    await store.close()
    const reopened = new PackBlockstore(dir)
    await reopened.open()
    assert.ok((await read(reopened, cid)).equals(whole))
    assert.ok((await read(reopened, insideCid)).equals(inside))
    assert.equal(reopened.locate(insideCid)?.offset, whole.length, 'the blocks lie one after the other, each its own length')
    await reopened.close()
  })

  it('lets two open stores (a node and the CLI) write the same home at once, each to its own packs', async () => {
    const dir = join(root, 'shared')
    const a = new PackBlockstore(dir)
    const b = new PackBlockstore(dir)
    await a.open()
    await b.open()
    const made = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const bytes = randomBytes(4096)
      return { cid: await rawBlock(bytes), bytes, writer: i % 2 === 0 ? a : b }
    }))
    await Promise.all(made.map(async m => m.writer.put(m.cid, m.bytes)))
    // Writes are behind until flushed (as before a ref moves); then the other store sees them.
    await a.flush()
    await b.flush()
    for (const m of made) {
      assert.ok((await read(a, m.cid)).equals(m.bytes))
      assert.ok((await read(b, m.cid)).equals(m.bytes))
    }
    assert.equal((await readdir(join(dir, 'packs'))).length, 2)
    await a.close()
    await b.close()
  })

  it('a damaged byte in a pack fails the hash check of exactly the block it belongs to', async () => {
    const store = new PackBlockstore(join(root, 'damaged'))
    await store.open()
    const blocks = await Promise.all(['one', 'two', 'three'].map(async text => {
      const bytes = Buffer.from(text.repeat(100))
      return { cid: await rawBlock(bytes), bytes }
    }))
    for (const block of blocks) await store.put(block.cid, block.bytes)
    await store.flush()
    const where = store.locate(blocks[1].cid)
    assert.ok(where !== undefined)
    const pack = await readFile(where.path)
    pack[where.offset + 7] ^= 0x01
    await writeFile(where.path, pack)
    await assert.rejects(getVerifiedBlock(store, blocks[1].cid), { name: 'CorruptBlockError' })
    assert.ok(blocks[0].bytes.equals(await getVerifiedBlock(store, blocks[0].cid)))
    assert.ok(blocks[2].bytes.equals(await getVerifiedBlock(store, blocks[2].cid)))
    await store.close()
  })
})

describe('pack blockstore under faults', () => {
  it('a pack cut short reads as a damaged block, not as another block or a crash', async () => {
    const store = new PackBlockstore(join(root, 'truncated'))
    await store.open()
    const bytes = randomBytes(10_000)
    const cid = await rawBlock(bytes)
    await store.put(cid, bytes)
    const where = store.locate(cid)
    assert.ok(where !== undefined)
    await truncate(where.path, where.offset + 5_000)
    await assert.rejects(getVerifiedBlock(store, cid), { name: 'CorruptBlockError' })
    await store.close()
  })

  it('a ref committed by one open store names only blocks another process can already read', async () => {
    const home = join(root, 'write-behind')
    const source = join(root, 'write-behind-source')
    await mkdir(source, { recursive: true })
    await writeFile(join(source, 'corpus.jsonl'), rowsToBytes(generateRows(3_000_000, 4)))
    const writer = await openStore(home)
    const reader = await openStore(home)
    try {
      await initDataset(writer, 'wb')
      // The import writes behind; the ref moves only after its blocks are on disk.
      await commitVersion(writer, { name: 'wb', path: source, message: 'm', time: 0 })
      const seen = await verifyVersion(reader, 'wb')
      assert.equal(seen.ok, true, JSON.stringify({ missing: seen.missing.length, corrupt: seen.corrupt.length }))
      assert.ok(seen.blocks > 500)

      // Many blocks still queued when a ref moves: writeDataset waits for all of them.
      const queued = await Promise.all(Array.from({ length: 6000 }, async () => {
        const bytes = randomBytes(5000)
        return { cid: await rawBlock(bytes), bytes }
      }))
      const behind = writeBehind(writer.blocks)
      for (const block of queued) await behind.put(block.cid, block.bytes)
      await writeDataset(writer, { name: 'wb', head: queued[queued.length - 1].cid, created: new Date(0).toISOString() })
      const unseen = []
      for (const block of queued) if (!(await reader.blocks.has(block.cid))) unseen.push(block.cid)
      assert.equal(unseen.length, 0)
    } finally {
      await writer.close()
      await reader.close()
    }
  })
})

interface FileEvent { kind: 'write' | 'sync', file: string, at: number }

interface SyncFaults {
  /** Each data sync takes this much longer (a slow disk). */
  delayMs?: number
  /** Each data sync fails with EIO while this returns true. */
  fail?: () => boolean
}

/**
 * Observes the real calls on every open file: writes (writev) and data syncs by the file
 * each went to (Linux: /proc names a descriptor's file), with the syncs slowed or failing
 * as `faults` says; `syncing` counts syncs begun and not yet ended, `reads` the reads made;
 * `stop` puts the calls back.
 */
async function observeFileCalls (scratch: string, faults: SyncFaults = {}): Promise<{ events: FileEvent[], syncing: () => number, reads: () => number, stop: () => void }> {
  const events: FileEvent[] = []
  let syncing = 0
  let reads = 0
  const probe = await open(scratch, 'w')
  const handles = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<unknown>, writev: (...args: unknown[]) => Promise<unknown>, datasync: () => Promise<void> }
  await probe.close()
  const { read, writev, datasync } = handles
  handles.read = async function (this: unknown, ...args) {
    reads++
    return read.apply(this, args)
  }
  const fileOf = async (fd: number): Promise<string> => await readlink(`/proc/self/fd/${fd}`)
  handles.writev = async function (this: { fd: number }, ...args) {
    events.push({ kind: 'write', file: await fileOf(this.fd), at: events.length })
    return writev.apply(this, args)
  }
  handles.datasync = async function (this: { fd: number }) {
    syncing++
    try {
      events.push({ kind: 'sync', file: await fileOf(this.fd), at: events.length })
      if (faults.delayMs !== undefined) await new Promise(resolve => setTimeout(resolve, faults.delayMs))
      if (faults.fail?.() === true) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })
      return await datasync.apply(this)
    } finally {
      syncing--
    }
  }
  return { events, syncing: () => syncing, reads: () => reads, stop: () => { handles.read = read; handles.writev = writev; handles.datasync = datasync } }
}

/** The pack files written to (as `events` saw them) whose last write no sync followed. */
function unsyncedFiles (events: FileEvent[]): string[] {
  const written = new Set(events.filter(e => e.kind === 'write').map(e => e.file))
  return [...written].filter(file => {
    const lastWrite = events.findLastIndex(e => e.kind === 'write' && e.file === file)
    return events.findLastIndex(e => e.kind === 'sync' && e.file === file) < lastWrite
  })
}

describe('pack blockstore durability', () => {
  it('flush returns only once every pack written to since the last flush is synced to disk', async (t) => {
    if (process.platform !== 'linux') { t.skip('reads which file a descriptor names from /proc'); return }
    const dir = join(root, 'durable')
    const store = new PackBlockstore(dir, { groupBytes: 16 * 1024, packBytes: 64 * 1024 })
    await store.open()
    const { events, stop } = await observeFileCalls(join(dir, 'probe'))
    try {
      for (let round = 0; round < 2; round++) {
        events.length = 0
        // ~150 KiB behind: several groups on both lanes, packs filled and closed past 64 KiB.
        for (let i = 0; i < 30; i++) {
          const bytes = randomBytes(5_000)
          await store.putBehind(await rawBlock(bytes), bytes)
        }
        await store.flush()
        const written = new Set(events.filter(e => e.kind === 'write').map(e => e.file))
        assert.ok(written.size >= 3, `round ${round}: groups went to several packs (${written.size})`)
        assert.deepEqual(unsyncedFiles(events), [], `round ${round}: every pack synced after its last write`)
      }
    } finally {
      stop()
      await store.close()
    }
  })
})

describe('pack blockstore durability under slow and failing disks', () => {
  const blocksOf = async (n: number): Promise<Array<{ cid: CID, bytes: Buffer }>> => await Promise.all(Array.from({ length: n }, async () => {
    const bytes = randomBytes(5_000)
    return { cid: await rawBlock(bytes), bytes }
  }))

  it('no flush returns while a sync of bytes written before it runs: two flushes at once, a full pack closing', async (t) => {
    if (process.platform !== 'linux') { t.skip('reads which file a descriptor names from /proc'); return }
    const { syncing, stop } = await observeFileCalls(join(root, 'slow-probe'), { delayMs: 150 })
    try {
      // Two flushes at once: the second finds the first's sync running, begun after the
      // same writes, and must wait for it.
      const both = new PackBlockstore(join(root, 'slow-both'))
      await both.open()
      const [block] = await blocksOf(1)
      await both.putBehind(block.cid, block.bytes)
      const first = both.flush()
      let inFlight = -1
      await both.flush().then(() => { inFlight = syncing() })
      await first
      assert.equal(inFlight, 0, 'the second flush returned with no sync running')
      await both.close()

      // A full group, a flush, then a group that fills the pack: queued behind the first,
      // it closes (and syncs) the pack holding the first group's bytes before the flush
      // looks at the lane; the flush waits for that sync.
      const rotating = new PackBlockstore(join(root, 'slow-rotate'), { groupBytes: 5_000, packBytes: 7_500, lanes: 1 })
      await rotating.open()
      const blocks = await blocksOf(2)
      await rotating.putBehind(blocks[0].cid, blocks[0].bytes)
      inFlight = -1
      const flushed = rotating.flush().then(() => { inFlight = syncing() })
      await rotating.putBehind(blocks[1].cid, blocks[1].bytes)
      await flushed
      assert.equal(inFlight, 0, 'the flush returned with no sync of a closing pack running')
      await rotating.close()
    } finally {
      stop()
    }
  })

  it('a failed sync fails every later flush: no retry reports pages the disk dropped as written', async (t) => {
    if (process.platform !== 'linux') { t.skip('reads which file a descriptor names from /proc'); return }
    const dir = join(root, 'failing-disk')
    const store = new PackBlockstore(dir, { groupBytes: 16 * 1024 })
    await store.open()
    let failing = true
    const { stop } = await observeFileCalls(join(dir, 'probe'), { fail: () => failing })
    try {
      const [one, two] = await blocksOf(2)
      await store.put(one.cid, one.bytes)
      await assert.rejects(store.flush(), { code: 'EIO' })
      failing = false
      // The disk "recovers": a later sync would succeed over the lost pages.
      await assert.rejects(store.put(two.cid, two.bytes), { code: 'EIO' }, 'puts refused once a sync failed')
      await assert.rejects(store.flush(), { code: 'EIO' }, 'and every flush after')
    } finally {
      stop()
      await assert.rejects(store.close(), { code: 'EIO' }, 'close reports it too, having closed everything')
    }
  })
})

describe('pack blockstore under a cap on address space', () => {
  it('opens, writes and reads under ulimit -v (the index is not mapped larger than the cap allows)', async (t) => {
    if (process.platform !== 'linux') { t.skip('ulimit -v and /proc/self/limits are Linux'); return }
    const dir = join(root, 'capped')
    const script = [
      `import { PackBlockstore } from ${JSON.stringify(join(import.meta.dirname, 'packBlockstore.ts'))}`,
      "import { CID } from 'multiformats/cid'",
      "import * as raw from 'multiformats/codecs/raw'",
      "import { sha256 } from 'multiformats/hashes/sha2'",
      `const store = new PackBlockstore(${JSON.stringify(dir)})`,
      'await store.open()',
      "const bytes = new TextEncoder().encode('capped')",
      'const cid = CID.createV1(raw.code, await sha256.digest(bytes))',
      'await store.put(cid, bytes)',
      'await store.flush()',
      'console.log(await store.has(cid) ? "stored" : "missing")',
      'await store.close()'
    ].join('\n')
    // 32 GB of address space: room for Node, far less than the 256 GiB index map (mapping
    // it anyway killed the process with SIGSEGV, no error to catch).
    const run = spawnSync('sh', ['-c', `ulimit -v 32000000 && exec "$0" --input-type=module -e "$1"`, process.execPath, script], { encoding: 'utf8', cwd: import.meta.dirname })
    assert.equal(run.signal, null, `killed by ${run.signal}`)
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.stdout.trim(), 'stored')
  })
})

describe('migration from one file per block', () => {
  it('opens a home written with blockstore-fs: the same versions verify and export, the old directory is gone', async () => {
    const home = join(root, 'old-home')
    const source = join(root, 'old-source')
    await mkdir(join(source, 'nested'), { recursive: true })
    await writeFile(join(source, 'corpus.jsonl'), rowsToBytes(generateRows(1_500_000, 9))) // ~330 blocks: more than one batch moved
    await writeFile(join(source, 'nested', 'notes.txt'), 'notes\n')
    // A home as an older Commons wrote it: blocks as files under <home>/blocks.
    const fs = new FsBlockstore(join(home, 'blocks'))
    await fs.open()
    const datasetsDir = join(home, 'datasets')
    await mkdir(datasetsDir, { recursive: true })
    const old: Store = { home, blocks: fs, datasetsDir, close: async () => { await fs.close() } }
    await initDataset(old, 'legacy')
    const { cid } = await commitVersion(old, { name: 'legacy', path: source, message: 'old', time: 1 })
    const oldBlocks = (await readdir(join(home, 'blocks'), { recursive: true, withFileTypes: true })).filter(e => e.isFile()).length
    await old.close()

    // The old files are the only other copy: every pack is synced before they go (the
    // syncs are observed while openStore runs; nothing else flushes in it).
    const observed = process.platform === 'linux' ? await observeFileCalls(join(root, 'old-probe')) : undefined
    let store: Store
    const reports: MigrationProgress[] = []
    reportStoreMigrations(progress => { reports.push(progress) })
    try {
      store = await openStore(home)
    } finally {
      observed?.stop()
      reportStoreMigrations(undefined)
    }
    // Told as it goes (a batch of blocks at a time), then once done, with every block counted.
    assert.ok(reports.length >= 2, `${reports.length} reports`)
    assert.deepEqual(reports.map(r => r.done), [...reports.slice(1).map(() => false), true])
    assert.ok(reports.every((r, i) => i === 0 || r.moved > reports[i - 1].moved || r.done))
    assert.equal(reports.at(-1)?.moved, oldBlocks)
    if (observed !== undefined) {
      const { events } = observed
      assert.ok(events.some(e => e.kind === 'write' && e.file.endsWith('.pack')), 'the blocks went into packs')
      assert.deepEqual(unsyncedFiles(events.filter(e => e.file.endsWith('.pack'))), [])
    }
    try {
      await assert.rejects(stat(join(home, 'blocks')), { code: 'ENOENT' })
      const verified = await verifyVersion(store, 'legacy')
      assert.equal(verified.ok, true)
      assert.ok(verified.root.equals(cid))
      assert.equal(verified.blocks, oldBlocks)
      const out = join(root, 'old-export')
      await exportVersion(store, 'legacy', out)
      assert.ok((await readFile(join(out, 'corpus.jsonl'))).equals(await readFile(join(source, 'corpus.jsonl'))))
      // The same files committed again land on the same CIDs: nothing to commit.
      await assert.rejects(commitVersion(store, { name: 'legacy', path: source, message: 'again' }), { name: 'NothingToCommitError' })
    } finally {
      await store.close()
    }
  })
})
