import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidArgumentError } from 'commander'
import writeFileAtomic from 'write-file-atomic'
import type { Hex } from 'viem'

/** Option parsers and the client's small memory shared by `serve`, `infer` and `channel`. */

export const amountOption = (name: string) => (value: string): string => {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError(`${name} must be an amount of tokens like 100 or 2.5, got "${value}"`)
  return value
}

export const countOption = (name: string, min = 0) => (value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number${min > 0 ? ` from ${min}` : ''}, got "${value}"`)
  return n
}

export const fractionOption = (name: string) => (value: string): number => {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number, got "${value}"`)
  return n
}

export const collectOption = (value: string, previous: string[] = []): string[] => [...previous, value]

/**
 * What a client has signed for on each of its channels, so its next voucher adds to the
 * total (vouchers are cumulative). In `<home>/client/channels.json`, written atomically.
 */
const signedFile = (home: string): string => join(home, 'client', 'channels.json')

export async function readSigned (home: string, channel: Hex): Promise<bigint> {
  const all = await readFile(signedFile(home), 'utf8').then(t => JSON.parse(t) as Record<string, string>, () => ({} as Record<string, string>))
  return BigInt(all[channel.toLowerCase()] ?? '0')
}

export async function writeSigned (home: string, channel: Hex, signed: bigint): Promise<void> {
  const all = await readFile(signedFile(home), 'utf8').then(t => JSON.parse(t) as Record<string, string>, () => ({} as Record<string, string>))
  all[channel.toLowerCase()] = signed.toString()
  const { mkdir } = await import('node:fs/promises')
  await mkdir(join(home, 'client'), { recursive: true })
  await writeFileAtomic(signedFile(home), JSON.stringify(all, null, 2) + '\n')
}
