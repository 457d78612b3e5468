import { readFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { Wallet } from '@ethereumjs/wallet'
import writeFileAtomic from 'write-file-atomic'
import type { Hex } from 'viem'
import { BaseError } from '@commons/errors'

export class KeystoreError extends BaseError {
  override name = 'KeystoreError'
}

/** Where the password comes from when none is passed: this environment variable. */
export const PASSWORD_ENV = 'COMMONS_PASSWORD'

export interface KeystoreOptions {
  /** The password; default `$COMMONS_PASSWORD`. */
  password?: string
  /** scrypt cost (2^n); the standard 2^18 by default, lower only for tests and demos. */
  scryptN?: number
}

/** The password: given, else $COMMONS_PASSWORD, else asked on the terminal (not echoed). */
async function passwordOf (options: KeystoreOptions, path: string): Promise<string> {
  const password = options.password ?? process.env[PASSWORD_ENV] ?? (process.stdin.isTTY && options.password === undefined ? await ask(`password for ${path}: `) : undefined)
  if (password === undefined || password === '') {
    throw new KeystoreError('the node key is encrypted and no password was given', { hint: `set ${PASSWORD_ENV} or pass --password-file` })
  }
  return password
}

async function ask (prompt: string): Promise<string> {
  process.stderr.write(prompt)
  const muted = new Writable({ write: (_chunk, _encoding, done) => { done() } })
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true })
  try {
    return await new Promise<string>(resolve => rl.question('', resolve))
  } finally {
    rl.close()
    process.stderr.write('\n')
  }
}

/**
 * The node's Ethereum key from its encrypted keystore file (Web3 Secret Storage v3,
 * scrypt), created with a new random key on first use. Written atomically; a wrong
 * password is a clear error, never a new key.
 */
export async function loadOrCreateKey (path: string, options: KeystoreOptions = {}): Promise<{ privateKey: Hex, created: boolean }> {
  const password = await passwordOf(options, path)
  let json: string | undefined
  try {
    json = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  if (json !== undefined) {
    try {
      const wallet = await Wallet.fromV3(json, password, true)
      return { privateKey: wallet.getPrivateKeyString() as Hex, created: false }
    } catch (cause) {
      throw new KeystoreError(`cannot open the keystore ${path}: wrong password or a damaged file`, { hint: `check ${PASSWORD_ENV}`, details: { path }, cause })
    }
  }
  const wallet = Wallet.generate()
  const v3 = await wallet.toV3(password, { n: options.scryptN ?? 2 ** 18 })
  await mkdir(dirname(path), { recursive: true })
  await writeFileAtomic(path, JSON.stringify(v3, null, 2) + '\n', { mode: 0o600 })
  return { privateKey: wallet.getPrivateKeyString() as Hex, created: true }
}
