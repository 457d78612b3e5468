import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ContractRevertError } from '@commons/chain'
import { jsonValue } from './output.ts'
import { revertSentence } from './revertText.ts'
import { asUserError } from './userErrors.ts'

describe('what the CLI prints', () => {
  it('prints bigints with every digit (Number would round past 2^53)', () => {
    const wei = 10n ** 18n * 123n + 1n
    assert.equal(JSON.stringify({ wei, small: 5n, nested: [2n ** 64n] }, jsonValue), '{"wei":123000000000000000001,"small":5,"nested":[18446744073709551616]}')
  })

  it('turns a revert into a sentence with tokens and dates, keeping the raw values for scripts', () => {
    const raw = new ContractRevertError('postJob was refused by the contract: ERC20InsufficientBalance(0xabc, 0, 10000000000000000000)', {
      details: { error: 'ERC20InsufficientBalance', args: ['0x0000000000000000000000000000000000000abc', '0', '10000000000000000000'] }
    })
    const said = revertSentence(raw)
    assert.equal(said.name, 'ContractRevertError')
    assert.deepEqual(said.details, raw.details)
    assert.ok(said.message.includes('10 COM') && !said.message.includes('10000000000000000000'), said.message)
    const timelock = revertSentence(new ContractRevertError('x', { details: { error: 'TimelockNotPassed', args: ['1', '1796132736'] } }))
    assert.ok(timelock.message.includes('2026-12-01T13:45:36Z'), timelock.message)
    assert.notEqual(timelock.hint, undefined)
    const unknown = new ContractRevertError('y', { details: { error: 'SomethingNew', args: [] } })
    assert.equal(revertSentence(unknown), unknown, 'an error without a sentence keeps its own message')
  })

  it('names file system and SQLite errors a user can cause', () => {
    const missing = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/x/job.json', syscall: 'open' })
    assert.equal((asUserError(missing) as Error).name, 'FileAccessError')
    const sqlite = Object.assign(new Error('file is not a database'), { code: 'ERR_SQLITE_ERROR' })
    assert.equal((asUserError(sqlite) as Error).name, 'DamagedStateError')
    const bug = new TypeError('x is undefined')
    assert.equal(asUserError(bug), bug, 'a bug stays a bug')
  })
})
