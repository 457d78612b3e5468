import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dagBlocks, openStore } from '@commons/store'
import { CID } from 'multiformats/cid'
import { commons, errorName } from './testing.ts'

/**
 * `commons store compact` on a home whose packs hold dead blocks: what a garbage
 * collection leaves when it deletes the blocks of a dataset no ref names any more.
 */

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-store-compact-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

const packsSize = async (home: string): Promise<number> => {
  let total = 0
  for (const name of await readdir(join(home, 'blockstore', 'packs'))) total += (await stat(join(home, 'blockstore', 'packs', name))).size
  return total
}

test('store compact frees the blocks a deletion left in the packs; every kept version still verifies', { timeout: 120_000 }, async () => {
  const home = join(root, 'home')
  for (const [name, seed] of [['kept', 1], ['dropped', 2]] as const) {
    const dir = join(root, name)
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'rows.jsonl'), Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ seed, i, text: `row ${i * seed} of ${name}` })).join('\n'))
    assert.equal((await commons(['dataset', 'init', name, '--home', home])).code, 0)
    assert.equal((await commons(['dataset', 'commit', name, dir, '-m', name, '--home', home])).code, 0)
  }
  const log = async (name: string): Promise<string> => (JSON.parse((await commons(['dataset', 'log', name, '--json', '--home', home])).stdout) as Array<{ cid: string }>)[0].cid
  const kept = await log('kept')
  const dropped = await log('dropped')
  // Delete every block of the dropped version the kept one does not share (a GC's work).
  const store = await openStore(home)
  const keep = new Set<string>()
  for await (const { cid } of dagBlocks(store.blocks, CID.parse(kept))) keep.add(cid.toString())
  let deleted = 0
  for await (const { cid } of dagBlocks(store.blocks, CID.parse(dropped))) {
    if (!keep.has(cid.toString())) { await store.blocks.delete(cid); deleted++ }
  }
  await store.close()
  await rm(join(home, 'datasets', 'dropped.json'))
  assert.ok(deleted > 100)
  const before = await packsSize(home)

  const run = await commons(['store', 'compact', '--min-dead', '0', '--json', '--home', home])
  assert.equal(run.code, 0, run.stderr)
  const result = JSON.parse(run.stdout) as { compacted: number, reclaimedBytes: number, liveBytes: number }
  assert.ok(result.compacted > 0)
  assert.equal(await packsSize(home), before - result.reclaimedBytes)
  assert.equal(await packsSize(home), result.liveBytes)
  const verify = await commons(['dataset', 'verify', 'kept', '--json', '--home', home])
  assert.equal(verify.code, 0, verify.stdout)
  assert.equal((JSON.parse(verify.stdout) as { ok: boolean }).ok, true)

  const bad = await commons(['store', 'compact', '--min-dead', '2', '--json', '--home', home])
  assert.notEqual(bad.code, 0)
  assert.equal((await commons(['store', 'compact', '--help'])).code, 0)
  assert.ok(errorName(bad).length > 0)
})
