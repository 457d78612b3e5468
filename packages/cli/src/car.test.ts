import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateRows, rowsToBytes } from '@commons/store'
import { commons, errorName } from './testing.ts'

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-car-cli-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

describe('commons dataset export --car / import', () => {
  it('moves a version between two homes through a CAR file, and refuses a corrupt one', async () => {
    const data = join(root, 'data')
    await mkdir(data)
    await writeFile(join(data, 'rows.jsonl'), rowsToBytes(generateRows(100_000, 4)))
    const a = ['--home', join(root, 'a')]
    const b = ['--home', join(root, 'b')]
    assert.equal((await commons(['dataset', 'init', 'corpus', ...a])).code, 0)
    const cid = (await commons(['dataset', 'commit', 'corpus', data, '-m', 'one', ...a])).stdout.trim()
    const car = join(root, 'corpus.car')

    const exported = await commons(['dataset', 'export', 'corpus', '--car', car, '--json', ...a])
    assert.equal(exported.code, 0, exported.stderr)
    assert.equal((JSON.parse(exported.stdout) as { root: string }).root, cid)

    const imported = await commons(['dataset', 'import', car, '--json', ...b])
    assert.equal(imported.code, 0, imported.stderr)
    const result = JSON.parse(imported.stdout) as { roots: string[], missing: number }
    assert.deepEqual(result.roots, [cid])
    assert.equal(result.missing, 0)
    const out = join(root, 'out')
    assert.equal((await commons(['dataset', 'export', cid, out, ...b])).code, 0)
    assert.deepEqual(await readFile(join(out, 'rows.jsonl')), await readFile(join(data, 'rows.jsonl')))

    const bytes = await readFile(car)
    bytes[bytes.length - 10] ^= 0xff // inside the last block's data
    await writeFile(car, bytes)
    const refused = await commons(['dataset', 'import', car, '--json', '--home', join(root, 'c')])
    assert.equal(refused.code, 1)
    assert.equal(errorName(refused), 'InvalidCarError')

    const both = await commons(['dataset', 'export', cid, out, '--car', car, '--json', ...a])
    assert.equal(both.code, 1)
    assert.equal(errorName(both), 'UsageError')
    for (const command of [['dataset', 'import'], ['dataset', 'export']]) {
      assert.equal((await commons([...command, '--help'])).code, 0)
    }
  })
})
