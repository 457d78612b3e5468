import { InvalidArgumentError } from 'commander'

/**
 * The parsers of the CLI's option values, one of each kind, for every command: a bad
 * value is refused before the command runs, with the flag, what it takes and what was
 * given (commander prints it as a usage error, exit code 1).
 */

/** Digits only: `Number` would also take '', ' 7', '0x10' and '1e3'. */
const WHOLE = /^\d+$/
const AMOUNT = /^\d+(\.\d+)?$/
const DECIMAL = /^(\d+\.?\d*|\.\d+)$/

/**
 * A whole number from `min` to `max` (default: 0 and the largest safe integer), told as
 * `what` ("a whole number of seconds": "--timelock must be a whole number of seconds from 0 to ...").
 */
export function wholeOption (flag: string, { min = 0, max = Number.MAX_SAFE_INTEGER, what = 'a whole number' }: { min?: number, max?: number, what?: string } = {}): (value: string) => number {
  const range = max === Number.MAX_SAFE_INTEGER ? (min > 0 ? ` from ${min}` : '') : ` from ${min} to ${max}`
  return value => {
    const n = Number(value)
    if (!WHOLE.test(value) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be ${what}${range}, got "${value}"`)
    return n
  }
}

/** A TCP port; 0 (any free port) unless `min` says otherwise. */
export const portOption = (flag: string, min = 0): (value: string) => number => wholeOption(flag, { min, max: 65535, what: 'a port' })

/** An amount of tokens in whole units with an optional fraction ("100", "2.5"), kept as text for parseEther. */
export const amountOption = (flag: string) => (value: string): string => {
  if (!AMOUNT.test(value)) throw new InvalidArgumentError(`${flag} must be an amount of tokens like 100 or 2.5, got "${value}"`)
  return value
}

/**
 * A number, a fraction allowed ("0.5", "2"): from `min` (default 0), or above `above`
 * (that value itself refused), up to `max` when given.
 */
export function numberOption (flag: string, { min = 0, above, max }: { min?: number, above?: number, max?: number } = {}): (value: string) => number {
  const range = above === undefined ? `from ${min}${max === undefined ? '' : ` to ${max}`}` : `above ${above}${max === undefined ? '' : `, at most ${max}`}`
  return value => {
    const n = Number(value)
    if (!DECIMAL.test(value) || (above === undefined ? n < min : n <= above) || (max !== undefined && n > max)) {
      throw new InvalidArgumentError(`${flag} must be a number ${range}, got "${value}"`)
    }
    return n
  }
}

/** A repeatable option: each value given, in order. */
export const collectOption = (value: string, previous: string[] = []): string[] => [...previous, value]
