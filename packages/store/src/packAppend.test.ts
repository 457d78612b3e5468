import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { appendParts, DIRECT_ALIGN, DIRECT_MIN_BYTES, openDirect } from './packAppend.ts'
import type { Pack } from './packFiles.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-append-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

async function newPack (name: string): Promise<Pack> {
  const path = join(root, name)
  const handle = await open(path, 'wx')
  return { id: new Uint8Array(8), handle, direct: await openDirect(path), size: 0, unsynced: false, syncing: Promise.resolve() }
}

async function closePack (pack: Pack): Promise<void> {
  await pack.handle.close()
  await pack.direct?.handle.close()
}

/** Parts of odd sizes, so no part starts or ends on an aligned boundary. */
function oddParts (total: number): Uint8Array[] {
  const parts: Uint8Array[] = []
  for (let done = 0; done < total;) {
    const part = randomBytes(Math.min(total - done, 4093 + (parts.length * 7919) % 200_000))
    parts.push(part)
    done += part.length
  }
  return parts
}

const linux = process.platform === 'linux'

describe('appending to a pack', { skip: linux ? false : 'direct I/O is used on Linux only' }, () => {
  it('writes large groups direct at aligned offsets and small ones through the cache, each where it says', async t => {
    const pack = await newPack('mixed')
    if (pack.direct === undefined) { await closePack(pack); return t.skip(`the file system of ${root} has no direct I/O`) }
    // A small group, a large one (past the staging buffer: written in several pieces), a
    // small one, a large one: every group's bytes at the offset returned.
    const groups = [oddParts(1000), oddParts(20 << 20), oddParts(3333), oddParts(DIRECT_MIN_BYTES + 1)]
    const starts: number[] = []
    for (const parts of groups) starts.push(await appendParts(pack, parts, parts.reduce((sum, p) => sum + p.length, 0)))
    await closePack(pack)
    assert.equal(starts[0], 0)
    assert.equal(starts[1] % DIRECT_ALIGN, 0, 'a direct write starts aligned')
    assert.ok(starts[1] >= 1000 && starts[1] < 1000 + DIRECT_ALIGN, 'past the small group, skipping less than an alignment')
    assert.equal(starts[2], starts[1] + (20 << 20), 'a write through the cache follows the last byte, not the padding')
    assert.equal(starts[3] % DIRECT_ALIGN, 0)
    const file = await readFile(join(root, 'mixed'))
    for (let g = 0; g < groups.length; g++) {
      const bytes = Buffer.concat(groups[g])
      assert.ok(file.subarray(starts[g], starts[g] + bytes.length).equals(bytes), `group ${g} reads back`)
    }
    assert.equal(pack.size, starts[3] + groups[3].reduce((sum, p) => sum + p.length, 0))
  })

  it('writes through the cache from then on when the kernel refuses a direct write, losing no byte', async t => {
    const pack = await newPack('refused')
    if (pack.direct === undefined) { await closePack(pack); return t.skip(`the file system of ${root} has no direct I/O`) }
    // Staging memory off its alignment: the kernel answers the direct write with EINVAL.
    pack.direct.staging = new Uint8Array(new WebAssembly.Memory({ initial: 128 }).buffer).subarray(16)
    const parts = oddParts(2 << 20)
    const start = await appendParts(pack, parts, 2 << 20)
    assert.equal(pack.direct, undefined, 'the pack is no longer written direct')
    const more = oddParts(3 << 20)
    const next = await appendParts(pack, more, 3 << 20)
    assert.equal(next, start + (2 << 20))
    await closePack(pack)
    const file = await readFile(join(root, 'refused'))
    assert.ok(file.subarray(start, start + (2 << 20)).equals(Buffer.concat(parts)))
    assert.ok(file.subarray(next).equals(Buffer.concat(more)))
  })

  it('is not used under a cap on the address space (a staging memory reserves ~10 GiB of it)', async t => {
    const here = await newPack('uncapped')
    await closePack(here)
    if (here.direct === undefined) return t.skip(`the file system of ${root} has no direct I/O`)
    const script = [
      `import { openDirect } from ${JSON.stringify(join(import.meta.dirname, 'packAppend.ts'))}`,
      "import { writeFileSync } from 'node:fs'",
      `const path = ${JSON.stringify(join(root, 'capped'))}`,
      "writeFileSync(path, '')",
      'console.log((await openDirect(path)) === undefined ? "cached" : "direct")'
    ].join('\n')
    const run = (cap: string): string => {
      const child = spawnSync('sh', ['-c', `${cap}exec "$0" --input-type=module -e "$1"`, process.execPath, script], { encoding: 'utf8' })
      assert.equal(child.status, 0, child.stderr)
      return child.stdout.trim()
    }
    assert.equal(run(''), 'direct')
    assert.equal(run('ulimit -v 32000000 && '), 'cached')
  })
})
