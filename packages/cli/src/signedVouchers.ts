import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import type { Hex } from 'viem'

/** The client's small memory shared by `serve`, `infer` and `channel`. */

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
