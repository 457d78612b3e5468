import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { CID } from 'multiformats/cid'
import {
  commitVersion, exportCar, exportVersion, generateRows, importCar, initDataset, linksOf, openStore, rowsToBytes,
  verifyVersion, walkDag, writeCar, type Store
} from './index.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-car-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

let homes = 0
async function freshStore (): Promise<Store> {
  return openStore(join(root, `home-${++homes}`))
}

const NOTES = 'first line of the notes\nsecond line of the notes\n'

/** A store holding two versions of "corpus"; returns the head's CID and the data directory. */
async function twoVersions (store: Store): Promise<{ head: string, first: string, dir: string }> {
  const dir = join(root, `data-${homes}`)
  await mkdir(join(dir, 'nested'), { recursive: true })
  await writeFile(join(dir, 'corpus.jsonl'), rowsToBytes(generateRows(200_000, 3)))
  await writeFile(join(dir, 'nested', 'notes.txt'), NOTES)
  await writeFile(join(dir, 'nested', 'weights.bin'), randomBytes(200_000))
  await initDataset(store, 'corpus')
  const first = await commitVersion(store, { name: 'corpus', path: dir, message: 'one', author: 'a', time: 1 })
  await writeFile(join(dir, 'extra.txt'), 'a file added later\n')
  const head = await commitVersion(store, { name: 'corpus', path: dir, message: 'two', author: 'a', time: 2 })
  return { head: head.cid.toString(), first: first.cid.toString(), dir }
}

async function files (dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) found.set(join(entry.parentPath, entry.name).slice(dir.length + 1), (await readFile(join(entry.parentPath, entry.name))).toString('base64'))
  }
  return found
}

describe('CAR export and import', () => {
  it('round-trips a version with its history into an empty store', async () => {
    const source = await freshStore()
    const target = await freshStore()
    try {
      const { head, first, dir } = await twoVersions(source)
      const car = join(root, 'round.car')
      const written = await exportCar(source, 'corpus', car)
      assert.equal(written.root.toString(), head)
      const reachable = await walkDag(source.blocks, [written.root])
      assert.equal(written.blocks, reachable.blocks)
      assert.equal(written.bytes, reachable.bytes)

      const read = await importCar(target, car)
      assert.deepEqual(read.roots.map(String), [head])
      assert.equal(read.blocks, written.blocks)
      assert.equal(read.missing, 0)
      assert.equal((await verifyVersion(target, head)).ok, true)
      // The parent came along: the history is part of the version's DAG.
      const out = join(root, 'round-out')
      await exportVersion(target, first, out)
      const back = join(root, 'round-head')
      await exportVersion(target, head, back)
      assert.deepEqual(await files(back), await files(dir))
    } finally {
      await source.close()
      await target.close()
    }
  })

  it('refuses a CAR whose block does not match its CID, storing nothing damaged', async () => {
    const source = await freshStore()
    const target = await freshStore()
    try {
      await twoVersions(source)
      const car = join(root, 'corrupt.car')
      await exportCar(source, 'corpus', car)
      const bytes = await readFile(car)
      const at = bytes.indexOf(Buffer.from(NOTES))
      assert.ok(at > 0, 'the notes file is one raw block in the CAR')
      bytes[at + 3] ^= 0x20
      await writeFile(car, bytes)
      await assert.rejects(importCar(target, car), { name: 'InvalidCarError' })
      const stored = await readdir(join(target.home, 'blockstore', 'packs'), { recursive: true, withFileTypes: true })
      for (const entry of stored.filter(e => e.isFile())) {
        assert.ok(!(await readFile(join(entry.parentPath, entry.name))).includes(bytes.subarray(at, at + NOTES.length)))
      }
    } finally {
      await source.close()
      await target.close()
    }
  })

  it('refuses a truncated CAR and a file that is not a CAR', async () => {
    const source = await freshStore()
    const target = await freshStore()
    try {
      await twoVersions(source)
      const car = join(root, 'cut.car')
      await exportCar(source, 'corpus', car)
      const bytes = await readFile(car)
      await writeFile(car, bytes.subarray(0, Math.floor(bytes.length / 2)))
      await assert.rejects(importCar(target, car), { name: 'InvalidCarError' })
      const text = join(root, 'not.car')
      await writeFile(text, 'hello, not a car\n')
      await assert.rejects(importCar(target, text), { name: 'InvalidCarError' })
      await assert.rejects(importCar(target, join(root, 'absent.car')), { name: 'UnreadableFileError' })
    } finally {
      await source.close()
      await target.close()
    }
  })

  it('names a missing directory to export into as it was given', async () => {
    const source = await freshStore()
    try {
      const { head } = await twoVersions(source)
      const missing = join(root, 'no-such-dir')
      await assert.rejects(exportCar(source, head, join(missing, 'out.car')), { code: 'ENOENT', path: missing })
    } finally {
      await source.close()
    }
  })

  it('leaves no file behind when a block of the version is missing', async () => {
    const source = await freshStore()
    try {
      const { head } = await twoVersions(source)
      const reachable: string[] = []
      const stack = [CID.parse(head)]
      while (stack.length > 0) {
        const cid = stack.pop() as CID
        reachable.push(cid.toString())
        const parts: Uint8Array[] = []
        for await (const part of source.blocks.get(cid)) parts.push(part)
        stack.push(...linksOf(cid, Buffer.concat(parts)))
      }
      await source.blocks.delete(CID.parse(reachable[reachable.length - 1]))
      const car = join(root, 'missing.car')
      await assert.rejects(exportCar(source, head, car), { name: 'VersionNotFoundError' })
      assert.deepEqual((await readdir(root)).filter(name => name.endsWith('car-tmp') || name === 'missing.car'), [])
    } finally {
      await source.close()
    }
  })

  it('stops the walk and fails when the sink fails midway', async () => {
    const source = await freshStore()
    try {
      const { head } = await twoVersions(source)
      const whole = await walkDag(source.blocks, [CID.parse(head)])
      // A sink that takes 100 kB and then fails, as a disk that fills up does.
      let taken = 0
      const full = new Writable({
        write (chunk: Buffer, _encoding, done) {
          taken += chunk.byteLength
          done(taken > 100_000 ? Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }) : null)
        }
      })
      let read = 0
      // Settling means both sides stopped: the walk used to stay suspended on the writer forever.
      await assert.rejects(writeCar(source.blocks, CID.parse(head), full, { onProgress: blocks => { read = blocks } }), { code: 'ENOSPC' })
      assert.ok(read < whole.blocks, `the walk stopped early (${read} of ${whole.blocks} blocks)`)
    } finally {
      await source.close()
    }
  })
})
