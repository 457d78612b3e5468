import { CID } from 'multiformats/cid'
import { BaseError, isBaseError } from '@commons/errors'
import { asUserError } from './userErrors.ts'

/** Options every command shares. */
export interface GlobalOptions {
  home?: string
  json?: boolean
}

/** Prints a result: JSON for scripts, or the human rendering. */
export function emit (options: GlobalOptions, data: unknown, human: () => string): void {
  if (options.json === true) process.stdout.write(`${JSON.stringify(data, jsonValue, 2)}\n`)
  else {
    const text = human()
    if (text !== '') process.stdout.write(`${text}\n`)
  }
}

/**
 * CIDs print as their string form (not dag-json's `{"/": ...}`); bigints as JSON numbers
 * with every digit (a raw JSON number: going through `Number` would round anything past
 * 2^53, such as token amounts in wei).
 */
export function jsonValue (this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key]
  const cid = CID.asCID(original)
  if (cid !== null) return cid.toString()
  if (typeof value === 'bigint') return (JSON as unknown as { rawJSON: (text: string) => unknown }).rawJSON(value.toString())
  return value
}

/** When a progress line was last written: a walk of a million blocks reports each, the terminal takes ten a second. */
let progressAt = -Infinity

/** Progress for people, on stderr so stdout stays clean for pipes; silent for --json. */
export function progress (options: GlobalOptions, line: string): void {
  if (options.json === true || process.stderr.isTTY !== true) return
  const now = performance.now()
  if (now - progressAt < 100) return
  progressAt = now
  process.stderr.write(`\r\x1b[K${line}`)
}

export function progressDone (options: GlobalOptions): void {
  if (options.json !== true && process.stderr.isTTY) process.stderr.write('\r\x1b[K')
}

export function note (options: GlobalOptions, line: string): void {
  if (options.json !== true) process.stderr.write(`${line}\n`)
}

/**
 * A tool call's result in one line of at most `width` characters: what an agent found
 * (the demo prints it: a small model's own words after a result are weak, docs/agent.md).
 */
export function briefResult (call: { result: unknown, isError?: boolean }, width: number): string {
  // A tool's own words first (price and job_show say their result in a `summary`, agent_ask's peer in its `answer`).
  const said = call.result !== null && typeof call.result === 'object' ? (call.result as { summary?: unknown, answer?: unknown }) : {}
  const text = typeof call.result === 'string'
    ? call.result
    : typeof said.summary === 'string' ? said.summary : typeof said.answer === 'string' ? said.answer : JSON.stringify(call.result, jsonValue) ?? 'nothing'
  const brief = call.isError === true ? `failed: ${text}` : text
  return brief.length <= width ? brief : `${brief.slice(0, width - 3)}...`
}

export function formatBytes (bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = -1
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++ }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`
}

/**
 * Reports a failure and returns the exit code: a Commons error shows its message
 * and what to do; anything else is a bug and shows its stack.
 */
export function reportError (thrown: unknown, json: boolean): number {
  const error = asUserError(thrown)
  if (isBaseError(error)) {
    if (json) {
      process.stderr.write(`${JSON.stringify({ error: { name: error.name, message: error.message, hint: error.hint, details: error.details } }, jsonValue)}\n`)
    } else {
      process.stderr.write(`error: ${error.message}\n`)
      if (error.hint !== undefined) process.stderr.write(`hint: ${error.hint}\n`)
    }
    // 130: the shell's code for a command stopped by Ctrl-C.
    return error.name === 'InterruptedError' ? 130 : 1
  }
  process.stderr.write(`unexpected error (a bug in commons; please report it):\n${(thrown as Error)?.stack ?? String(thrown)}\n`)
  return 70
}

/** A command was given options that cannot work together or are not available. */
export class UsageError extends BaseError {
  override name = 'UsageError'
}
