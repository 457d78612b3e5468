import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { renderStorageFixture, STORAGE_FIXTURE } from '../scripts/storageFixture.ts'

describe('the storage proofs fixture', () => {
  it('is what the store and the proof builder make today (else run node packages/chain/scripts/storageFixture.ts)', async () => {
    const { source } = await renderStorageFixture()
    assert.ok(source === await readFile(STORAGE_FIXTURE, 'utf8'), 'contracts/test/storage/StorageFixtureData.sol is stale')
  })
})
