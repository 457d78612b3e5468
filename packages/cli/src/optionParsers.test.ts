import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { InvalidArgumentError } from 'commander'
import { amountOption, numberOption, portOption, wholeOption } from './optionParsers.ts'

const refuses = (parse: (value: string) => unknown, value: string, message: RegExp): void => {
  assert.throws(() => parse(value), (error: Error) => error instanceof InvalidArgumentError && message.test(error.message), `"${value}"`)
}

describe('option parsers', () => {
  it('take whole numbers as digits only, inside their range', () => {
    const steps = wholeOption('--steps', { min: 1 })
    assert.equal(steps('60'), 60)
    for (const bad of ['', ' 7', '0x10', '1e3', '2.5', '-1', '0']) refuses(steps, bad, /^--steps must be a whole number from 1, got "/)
    const timelock = wholeOption('--timelock', { max: 0xffffffff, what: 'a whole number of seconds' })
    assert.equal(timelock('0'), 0)
    refuses(timelock, '4294967296', /^--timelock must be a whole number of seconds from 0 to 4294967295, got "4294967296"$/)
  })

  it('take ports from 0 (any free one) or the minimum given, to 65535', () => {
    assert.equal(portOption('--api-port')('0'), 0)
    refuses(portOption('--api-port'), '99999', /^--api-port must be a port from 0 to 65535/)
    refuses(portOption('--port', 1), '0', /^--port must be a port from 1 to 65535/)
  })

  it('keep amounts of tokens as written, and refuse what parseEther would not read', () => {
    assert.equal(amountOption('--stake')('2.5'), '2.5')
    for (const bad of ['lots', '1e3', '-1', '.5', '']) refuses(amountOption('--stake'), bad, /^--stake must be an amount of tokens like 100 or 2.5/)
  })

  it('take numbers with a fraction, from a minimum or above a bound, up to a maximum', () => {
    const topP = numberOption('--top-p', { above: 0, max: 1 })
    assert.equal(topP('0.9'), 0.9)
    assert.equal(topP('1'), 1)
    assert.equal(topP('.5'), 0.5)
    for (const bad of ['0', '1.5', 'NaN', 'Infinity', '', '1e-3']) refuses(topP, bad, /^--top-p must be a number above 0, at most 1, got "/)
    assert.equal(numberOption('--min-dead', { max: 1 })('0'), 0)
  })
})
