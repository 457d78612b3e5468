import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  commitVersion, diffVersions, exportVersion, forkDataset, generateRows, initDataset, listDatasets,
  logDataset, openStore, readDataset, rowsToBytes, scanDatasets, showVersion, statDataset, tokenizeVersion, verifyVersion,
  MAX_COMMIT_TIME, type Store
} from './index.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-store-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

let homes = 0
async function freshStore (): Promise<Store> {
  return openStore(join(root, `home-${++homes}`))
}

/** A small dataset directory: nested text, CSV, JSONL, an empty file and binary data. */
async function writeSample (dir: string, rows = generateRows(300_000, 5)): Promise<void> {
  await mkdir(join(dir, 'nested', 'deeper'), { recursive: true })
  await writeFile(join(dir, 'corpus.jsonl'), rowsToBytes(rows))
  await writeFile(join(dir, 'labels.csv'), 'id,label\n1,"a, quoted\nnewline"\n2,plain\n')
  await writeFile(join(dir, 'nested', 'notes.txt'), 'first line\nsecond line\n')
  await writeFile(join(dir, 'nested', 'deeper', 'empty.txt'), '')
  await writeFile(join(dir, 'nested', 'weights.bin'), randomBytes(300_000))
}

/** Flips a byte in the biggest pack file (inside a chunk of corpus.jsonl or weights.bin). */
async function damageLargestPack (store: Store): Promise<void> {
  const packs = (await readdir(join(store.home, 'blockstore', 'packs'), { recursive: true, withFileTypes: true }))
    .filter(e => e.isFile()).map(e => join(e.parentPath, e.name))
  const sizes = await Promise.all(packs.map(async f => (await stat(f)).size))
  const victim = packs[sizes.indexOf(Math.max(...sizes))]
  const bytes = await readFile(victim)
  bytes[100] ^= 0xff
  await writeFile(victim, bytes)
}

async function treeFiles (dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.set(join(entry.parentPath, entry.name).slice(dir.length + 1), await readFile(join(entry.parentPath, entry.name)))
  }
  return files
}

/** Bytes in the pack files: any block written, new or again, grows them. */
async function packedBytes (store: Store): Promise<number> {
  const entries = await readdir(join(store.home, 'blockstore', 'packs'), { recursive: true, withFileTypes: true })
  const sizes = await Promise.all(entries.filter(e => e.isFile()).map(async e => (await stat(join(e.parentPath, e.name))).size))
  return sizes.reduce((sum, size) => sum + size, 0)
}

describe('datasets', () => {
  it('round-trips a directory byte for byte', async () => {
    const store = await freshStore()
    const source = join(root, 'src-roundtrip')
    await writeSample(source)
    await initDataset(store, 'rt')
    const { cid, files, bytes } = await commitVersion(store, { name: 'rt', path: source, message: 'm' })
    assert.equal(files, 5)
    const out = join(root, 'out-roundtrip')
    const exported = await exportVersion(store, cid.toString(), out)
    assert.equal(exported.bytes, bytes)
    assert.deepEqual(await treeFiles(out), await treeFiles(source))
    await store.close()
  })

  it('round-trips a single file as a version holding it', async () => {
    const store = await freshStore()
    const file = join(root, 'single.jsonl')
    await writeFile(file, rowsToBytes(generateRows(100_000, 9)))
    await initDataset(store, 'one')
    await commitVersion(store, { name: 'one', path: file, message: 'm' })
    const out = join(root, 'out-single')
    await exportVersion(store, 'one', out)
    assert.deepEqual(await readFile(join(out, 'single.jsonl')), await readFile(file))
    await store.close()
  })

  it('gives the same CIDs in two independent homes', async () => {
    const source = join(root, 'src-same')
    await writeSample(source)
    const cids = []
    for (let i = 0; i < 2; i++) {
      const store = await freshStore()
      await initDataset(store, 'same')
      const result = await commitVersion(store, { name: 'same', path: source, message: 'm', author: 'alice', time: 1_700_000_000 })
      cids.push({ version: result.cid.toString(), tree: result.version.tree.toString() })
      await store.close()
    }
    assert.deepEqual(cids[0], cids[1])
    assert.match(cids[0].version, /^bafyrei/) // CIDv1, dag-cbor, sha2-256
    assert.match(cids[0].tree, /^bafybei/) // CIDv1, dag-pb, sha2-256
  })

  it('logs, diffs and stores versions as deltas', async () => {
    const store = await freshStore()
    const source = join(root, 'src-history')
    let rows = generateRows(2_000_000, 11)
    await writeSample(source, rows)
    await initDataset(store, 'hist')
    const v1 = await commitVersion(store, { name: 'hist', path: source, message: 'one', time: 1 })
    const edited = rows.slice()
    edited[10] = '{"id":-1,"text":"changed row"}'
    edited.splice(500, 2)
    edited.push('{"id":-2,"text":"new row a"}', '{"id":-3,"text":"new row b"}')
    rows = edited
    await writeFile(join(source, 'corpus.jsonl'), rowsToBytes(rows))
    await writeFile(join(source, 'added.txt'), 'hello\n')
    await rm(join(source, 'nested', 'notes.txt'))
    const v2 = await commitVersion(store, { name: 'hist', path: source, message: 'two', time: 2 })

    const log = await logDataset(store, 'hist')
    assert.deepEqual(log.map(e => e.version.message), ['two', 'one'])
    assert.ok(log[0].version.parents[0].equals(v1.cid))
    assert.deepEqual(log[1].version.parents, [])

    const diff = await diffVersions(store, v1.cid.toString(), v2.cid.toString())
    const byPath = Object.fromEntries(diff.files.map(f => [f.path, f]))
    assert.deepEqual(Object.keys(byPath).sort(), ['added.txt', 'corpus.jsonl', 'nested/notes.txt'])
    assert.equal(diff.unchanged, 3)
    assert.equal(byPath['corpus.jsonl'].status, 'changed')
    assert.equal(byPath['corpus.jsonl'].kind, 'rows')
    assert.equal(byPath['corpus.jsonl'].added, 3)
    assert.equal(byPath['corpus.jsonl'].removed, 3)
    assert.ok(byPath['corpus.jsonl'].addedSample.includes('{"id":-1,"text":"changed row"}'))
    assert.equal(byPath['added.txt'].status, 'added')
    assert.equal(byPath['added.txt'].added, 1)
    assert.equal(byPath['nested/notes.txt'].status, 'removed')
    assert.equal(byPath['nested/notes.txt'].removed, 2)

    const stats = await statDataset(store, 'hist')
    assert.equal(stats.versions, 2)
    assert.equal(stats.logicalBytes, v1.bytes + v2.bytes)
    // The second version costs a few chunks, not a second copy.
    assert.ok(stats.reachableBytes < v1.bytes * 1.1, `${stats.reachableBytes} stored for ${v1.bytes} + ${v2.bytes}`)
    assert.ok(stats.storedBytes >= stats.reachableBytes)
    await store.close()
  })

  it('forks at a version, sharing blocks, and the histories go their own ways', async () => {
    const store = await freshStore()
    const source = join(root, 'src-fork')
    await writeSample(source)
    await initDataset(store, 'main')
    const v1 = await commitVersion(store, { name: 'main', path: source, message: 'one', time: 1 })
    await writeFile(join(source, 'more.txt'), 'more\n')
    await commitVersion(store, { name: 'main', path: source, message: 'two', time: 2 })
    const blocksBefore = await packedBytes(store)

    const fork = await forkDataset(store, 'main', 'side', v1.cid.toString())
    assert.ok(fork.head?.equals(v1.cid))
    assert.equal(fork.forkOf?.name, 'main')
    assert.equal(await packedBytes(store), blocksBefore, 'a fork copies nothing')

    await writeFile(join(source, 'side.txt'), 'only in the fork\n')
    await commitVersion(store, { name: 'side', path: source, message: 'side', time: 3 })
    assert.deepEqual((await logDataset(store, 'side')).map(e => e.version.message), ['side', 'one'])
    assert.deepEqual((await logDataset(store, 'main')).map(e => e.version.message), ['two', 'one'])
    assert.deepEqual((await listDatasets(store)).map(d => d.name), ['main', 'side'])

    const stranger = await freshStore()
    await initDataset(stranger, 'other')
    const foreign = await commitVersion(stranger, { name: 'other', path: join(root, 'src-fork', 'side.txt'), message: 'x' })
    await assert.rejects(forkDataset(store, 'main', 'bad', foreign.cid.toString()), { name: 'VersionNotFoundError' })
    await assert.rejects(forkDataset(store, 'main', 'side'), { name: 'DatasetExistsError' })
    await store.close()
    await stranger.close()
  })

  it('detects a corrupted block in verify and in export, and exports nothing', async () => {
    const store = await freshStore()
    const source = join(root, 'src-corrupt')
    await writeSample(source)
    await initDataset(store, 'c')
    const { cid } = await commitVersion(store, { name: 'c', path: source, message: 'm' })
    assert.equal((await verifyVersion(store, 'c')).ok, true)

    await damageLargestPack(store)

    const result = await verifyVersion(store, cid.toString())
    assert.equal(result.ok, false)
    assert.equal(result.corrupt.length, 1)
    assert.equal(result.missing.length, 0)
    const out = join(root, 'out-corrupt')
    await assert.rejects(exportVersion(store, cid.toString(), out), { name: 'CorruptBlockError' })
    await assert.rejects(stat(out), { code: 'ENOENT' })
    assert.deepEqual((await readdir(root)).filter(f => f.includes('export-tmp')), [])
    await store.close()
  })

  for (const threads of [0, 1]) {
    it(`writes a damaged block again when a commit needs it, instead of reusing it (${threads === 0 ? 'cut in this thread' : 'cut by a worker, leaves stored a batch at a time'})`, async () => {
      const store = await freshStore()
      const source = join(root, `src-recommit-${threads}`)
      await writeSample(source)
      await initDataset(store, 'a')
      await initDataset(store, 'b')
      await commitVersion(store, { name: 'a', path: source, message: 'm', threads })
      await damageLargestPack(store)
      assert.equal((await verifyVersion(store, 'a')).corrupt.length, 1)

      // The same files committed again (to another dataset): the damaged chunk is among them.
      await commitVersion(store, { name: 'b', path: source, message: 'm', threads })
      assert.equal((await verifyVersion(store, 'b')).ok, true, 'the commit holds no damaged block')
      assert.equal((await verifyVersion(store, 'a')).ok, true, 'and the block is repaired for every version that shares it')
      await store.close()
    })
  }

  it('lists the other datasets when one ref file is damaged, and names the damaged one', async () => {
    const store = await freshStore()
    for (const name of ['one', 'two', 'three']) await initDataset(store, name)
    await writeFile(join(store.datasetsDir, 'two.json'), '{"name": "two", "hea')
    const { datasets, damaged } = await scanDatasets(store)
    assert.deepEqual(datasets.map(d => d.name), ['one', 'three'])
    assert.deepEqual(damaged.map(d => [d.name, d.error]), [['two', 'DamagedRefError']])
    assert.deepEqual((await listDatasets(store)).map(d => d.name), ['one', 'three'])
    await assert.rejects(readDataset(store, 'two'), { name: 'DamagedRefError' })
    await store.close()
  })

  it('refuses a commit time no date can show, and writes nothing', async () => {
    const store = await freshStore()
    const source = join(root, 'src-time')
    await mkdir(source, { recursive: true })
    await writeFile(join(source, 'a.txt'), 'a\n')
    await initDataset(store, 't')
    const blocksBefore = await readdir(join(store.home, 'blockstore', 'packs'), { recursive: true })
    for (const time of [1e20, -1, 1.5, MAX_COMMIT_TIME + 1]) {
      await assert.rejects(commitVersion(store, { name: 't', path: source, message: 'm', time }), { name: 'InvalidTimeError' }, String(time))
    }
    assert.equal((await readDataset(store, 't')).head, null)
    assert.deepEqual(await readdir(join(store.home, 'blockstore', 'packs'), { recursive: true }), blocksBefore)
    const last = await commitVersion(store, { name: 't', path: source, message: 'm', time: MAX_COMMIT_TIME })
    assert.equal(new Date(last.version.time * 1000).toISOString(), '9999-12-31T23:59:59.000Z')
    await store.close()
  })

  it('lands every one of several concurrent commits, one after the other', async () => {
    const store = await freshStore()
    await initDataset(store, 'busy')
    const sources = await Promise.all([0, 1, 2, 3].map(async i => {
      const dir = join(root, `src-busy-${i}`)
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, 'data.txt'), `writer ${i}\n`)
      return dir
    }))
    const results = await Promise.all(sources.map((path, i) => commitVersion(store, { name: 'busy', path, message: `w${i}` })))
    const log = await logDataset(store, 'busy')
    assert.equal(log.length, 4)
    // A linear chain: each version's parent is the one committed before it.
    const head = (await readDataset(store, 'busy')).head as CID
    let cursor: CID | undefined = head
    let length = 0
    while (cursor !== undefined) {
      length++
      cursor = log.find(e => e.cid.equals(cursor as CID))?.version.parents[0]
    }
    assert.equal(length, 4)
    assert.deepEqual(new Set(log.map(e => e.cid.toString())), new Set(results.map(r => r.cid.toString())))
    await store.close()
  })

  it('tokenizes a version into the bytes of its files in path order', async () => {
    const store = await freshStore()
    const dir = join(root, 'src-tokens')
    await mkdir(join(dir, 'b'), { recursive: true })
    await writeFile(join(dir, 'b', 'x.txt'), 'xy')
    await writeFile(join(dir, 'a.txt'), 'ab\u00e9')
    await initDataset(store, 'tok')
    await commitVersion(store, { name: 'tok', path: dir, message: 'm' })
    const { tokens, files } = await tokenizeVersion(store, 'tok', 'byte')
    assert.equal(files, 2)
    assert.deepEqual([...tokens], [...Buffer.from('ab\u00e9xy')])
    await assert.rejects(tokenizeVersion(store, 'tok', 'bpe'), { name: 'UnknownTokenizerError' })
    await store.close()
  })

  it('shows a version with its files', async () => {
    const store = await freshStore()
    const source = join(root, 'src-show')
    await writeSample(source)
    await initDataset(store, 's')
    const { cid } = await commitVersion(store, { name: 's', path: source, message: 'shown', author: 'bob', time: 5 })
    const shown = await showVersion(store, cid.toString())
    assert.equal(shown.version.author, 'bob')
    assert.deepEqual(shown.files.map(f => f.path), ['corpus.jsonl', 'labels.csv', 'nested/deeper/empty.txt', 'nested/notes.txt', 'nested/weights.bin'])
    assert.equal(shown.files.find(f => f.path === 'nested/weights.bin')?.size, 300_000)
    await store.close()
  })
})

describe('bad input: a named error and nothing written', () => {
  it('refuses each bad request without touching refs or blocks', async () => {
    const store = await freshStore()
    const source = join(root, 'src-bad')
    await writeSample(source)
    await initDataset(store, 'ok')
    await initDataset(store, 'empty')
    const { cid } = await commitVersion(store, { name: 'ok', path: source, message: 'm' })
    const fifoDir = join(root, 'src-fifo')
    await mkdir(fifoDir, { recursive: true })
    await writeFile(join(fifoDir, 'a.txt'), 'fine\n')
    execFileSync('mkfifo', [join(fifoDir, 'pipe')])

    const refsBefore = await readFile(join(store.datasetsDir, 'ok.json'), 'utf8')
    const blocksBefore = await packedBytes(store)
    const unknownCid = CID.createV1(0x71, await sha256.digest(Buffer.from('never stored'))).toString()
    const tree = (await showVersion(store, cid.toString())).version.tree.toString()
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['PathNotFoundError', () => commitVersion(store, { name: 'ok', path: join(root, 'nope'), message: 'm' })],
      ['UnreadableFileError', () => commitVersion(store, { name: 'ok', path: fifoDir, message: 'm' })],
      ['DatasetNotFoundError', () => commitVersion(store, { name: 'missing', path: source, message: 'm' })],
      ['NothingToCommitError', () => commitVersion(store, { name: 'ok', path: source, message: 'again' })],
      ['InvalidDatasetNameError', () => initDataset(store, '../escape')],
      ['DatasetExistsError', () => initDataset(store, 'ok')],
      ['EmptyDatasetError', () => logDataset(store, 'empty')],
      ['EmptyDatasetError', () => forkDataset(store, 'empty', 'e2')],
      ['InvalidCidError', () => showVersion(store, 'not-a-cid!')],
      ['InvalidCidError', () => exportVersion(store, 'bafyNOTACID', join(root, 'never'))],
      ['VersionNotFoundError', () => showVersion(store, unknownCid)],
      ['NotAVersionError', () => showVersion(store, tree)],
      ['ExportTargetError', () => exportVersion(store, cid.toString(), source)]
    ]
    for (const [name, run] of cases) await assert.rejects(run(), { name }, `expected ${name}`)
    assert.equal(await readFile(join(store.datasetsDir, 'ok.json'), 'utf8'), refsBefore)
    assert.equal(await packedBytes(store), blocksBefore)
    assert.equal((await readDataset(store, 'empty')).head, null)
    await assert.rejects(stat(join(root, 'never')), { code: 'ENOENT' })
    await store.close()
  })
})
