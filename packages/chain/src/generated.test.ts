import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { GENERATED_DIR, renderContracts, renderEnums } from '../scripts/generateContracts.ts'
import { JOB_STATUS } from './market.ts'
import { PHASES } from './dispute.ts'
import { PROPOSAL_STATES } from './dao.ts'

describe('generated files', () => {
  it('are what generateContracts makes from contracts/out now (run npm run build after a contract changes)', async () => {
    assert.equal(await readFile(join(GENERATED_DIR, 'contracts.ts'), 'utf8'), await renderContracts(), 'contracts.ts')
    assert.equal(await readFile(join(GENERATED_DIR, 'enums.ts'), 'utf8'), await renderEnums(), 'enums.ts')
  })

  it('name each enum member as the TypeScript side reads it', () => {
    assert.deepEqual(JOB_STATUS, ['none', 'open', 'claimed', 'submitted', 'finalized', 'slashed', 'cancelled'])
    assert.deepEqual(PHASES, ['none', 'await-trace', 'await-pinpoint', 'await-reveal', 'resolved', 'await-values', 'await-records'])
    assert.deepEqual(PROPOSAL_STATES, ['pending', 'active', 'canceled', 'defeated', 'succeeded', 'queued', 'expired', 'executed'])
  })
})
