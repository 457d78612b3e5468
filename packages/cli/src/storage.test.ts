import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateRows, rowsToBytes } from '@commons/store'
import { commons, errorName } from './testing.ts'

/** The custom error a reverted call named, from a `--json` run's error details. */
const revertName = (stderr: string): unknown => (JSON.parse(stderr) as { error: { details: { error?: string } } }).error.details.error

/** `commons storage` on a devnet: a deal funded from the command line, read back, and the mistakes a user makes. */

let root: string
let h: string[]
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-storage-cli-'))
  h = ['--home', join(root, 'home')]
  assert.equal((await commons(['chain', 'up', '--detach', ...h])).code, 0)
  assert.equal((await commons(['chain', 'deploy', ...h])).code, 0)
  await writeFile(join(root, 'rows.jsonl'), rowsToBytes(generateRows(20_000, 3)))
  assert.equal((await commons(['dataset', 'init', 'corpus', ...h])).code, 0)
  assert.equal((await commons(['dataset', 'commit', 'corpus', join(root, 'rows.jsonl'), '-m', 'v1', ...h])).code, 0)
})
after(async () => {
  await commons(['chain', 'down', ...h])
  await rm(root, { recursive: true, force: true })
})

describe('commons storage', () => {
  it('funds a deal for a dataset head and reads it back with --json', async () => {
    const created = await commons(['storage', 'deal', 'create', 'corpus', '--replicas', '2', '--epochs', '4', '--epoch-blocks', '40', '--price', '2', '--json', ...h])
    assert.equal(created.code, 0, created.stderr)
    const { dealId, escrow } = JSON.parse(created.stdout) as { dealId: number, escrow: number | string }
    assert.equal(String(escrow), String(2n * 4n * 2n * 10n ** 18n))
    const shown = JSON.parse((await commons(['storage', 'deal', 'show', String(dealId), '--json', ...h])).stdout) as { version: string, held: number, slots: unknown[] }
    assert.match(shown.version, /^bafyrei/)
    assert.equal(shown.held, 0)
    assert.equal(shown.slots.length, 2)
    const listed = JSON.parse((await commons(['storage', 'deal', 'list', '--json', ...h])).stdout) as { deals: Array<{ id: number }> }
    assert.deepEqual(listed.deals.map(d => d.id), [dealId])
    const status = JSON.parse((await commons(['storage', 'status', '--json', ...h])).stdout) as { deals: number, unheld: number[], slots: unknown[] }
    assert.equal(status.deals, 1)
    assert.deepEqual(status.unheld, [dealId], 'a deal nobody holds is reported')
  })

  it('answers a missing deal, a provider without stake and bad terms by name', async () => {
    const missing = await commons(['storage', 'deal', 'show', '99', '--json', ...h])
    assert.equal(missing.code, 1)
    assert.equal(errorName(missing), 'ContractRevertError')
    assert.equal(revertName(missing.stderr), 'UnknownDeal')
    const unstaked = await commons(['storage', 'join', '1', '--account', '3', '--json', ...h])
    assert.equal(unstaked.code, 1)
    assert.equal(errorName(unstaked), 'ContractRevertError')
    assert.equal(revertName(unstaked.stderr), 'InsufficientFreeStake')
    const short = await commons(['storage', 'deal', 'create', 'corpus', '--epoch-blocks', '4', '--json', ...h])
    assert.equal(short.code, 1)
    assert.equal(errorName(short), 'ContractRevertError')
    assert.equal(revertName(short.stderr), 'InvalidTerms')
    const zero = await commons(['storage', 'deal', 'create', 'corpus', '--replicas', '0', '--json', ...h])
    assert.equal(zero.code, 1)
    assert.equal(errorName(zero), 'UsageError')
  })
})
