import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { BaseError } from '@commons/errors'
import { UsageError } from './output.ts'
import { DamagedStateError } from './userErrors.ts'

/** A --listen or --bootstrap value (or one in node/config.json) that is not a usable multiaddr. */
export class InvalidMultiaddrError extends BaseError {
  override name = 'InvalidMultiaddrError'
}

/** The --password-file cannot be read. */
export class PasswordFileError extends BaseError {
  override name = 'PasswordFileError'
}

function parse (value: unknown, flag: string): ReturnType<typeof multiaddr> {
  try {
    if (typeof value !== 'string') throw new Error('not a string')
    return multiaddr(value)
  } catch (cause) {
    throw new InvalidMultiaddrError(`${flag} "${String(value)}" is not a multiaddr: ${(cause as Error).message}`, {
      hint: flag === '--bootstrap' ? 'write /ip4/HOST/tcp/PORT/p2p/PEER_ID, as a running node prints in its multiaddrs' : 'write /ip4/HOST/tcp/PORT, e.g. /ip4/127.0.0.1/tcp/4001 (port 0: any free one)',
      details: { flag, value }, cause
    })
  }
}

/** Addresses to listen on: TCP (plain or /ws) or UDP WebRTC-Direct, the transports a node listens on. */
export function checkListen (values: unknown[]): void {
  for (const value of values) {
    const names = parse(value, '--listen').getComponents().map(c => c.name)
    if (!names.includes('tcp') && !(names.includes('udp') && names.includes('webrtc-direct'))) {
      throw new InvalidMultiaddrError(`--listen "${String(value)}" has no TCP port`, {
        hint: 'write /ip4/HOST/tcp/PORT (add /ws for WebSockets) or /ip4/HOST/udp/PORT/webrtc-direct, e.g. /ip4/127.0.0.1/tcp/4001; or --listen all',
        details: { value }
      })
    }
  }
}

/** Peers to dial at start: multiaddrs that end in the peer's id. */
export function checkBootstrap (values: unknown[]): void {
  for (const value of values) {
    const address = parse(value, '--bootstrap')
    const peer = address.getComponents().find(c => c.name === 'p2p')?.value
    if (peer === undefined) {
      throw new InvalidMultiaddrError(`--bootstrap "${String(value)}" does not end in /p2p/PEER_ID`, { hint: 'copy a multiaddr that a running node prints (commons node start --json)', details: { value } })
    }
    // A peer id in base58 (12D3KooW... for Ed25519 keys, Qm... for RSA): a placeholder
    // such as 12D3KooW... fails here rather than inside libp2p's dialer.
    if (!/^[1-9A-HJ-NP-Za-km-z]{46,60}$/.test(peer)) {
      throw new InvalidMultiaddrError(`--bootstrap "${String(value)}" names no valid peer id ("${peer}")`, { hint: 'copy a multiaddr that a running node prints (commons node start --json)', details: { value } })
    }
  }
}

/** The HTTP API port: 0 (any free one) to 65535. */
export function checkApiPort (value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new UsageError(`--api-port ${String(value)} is not a port`, { hint: 'pass a port from 1 to 65535, or 0 for any free one', details: { value } })
  }
}

export async function readPasswordFile (path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch (cause) {
    throw new PasswordFileError(`the password file ${path} cannot be read (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, {
      hint: 'pass --password-file with a readable file, or set COMMONS_PASSWORD', details: { path }, cause
    })
  }
}

/**
 * Opens the node's SQLite state and reads it once, so a damaged file is reported by
 * name before the node starts (or `node status` reads it).
 */
export async function checkState (home: string): Promise<void> {
  const path = join(home, 'node', 'state.db')
  if (!existsSync(path)) return
  const { NodeState } = await import('@commons/node/state')
  let state: InstanceType<typeof NodeState> | undefined
  try {
    state = new NodeState(path)
    state.jobs()
    state.runs()
    state.disputes()
  } catch (cause) {
    throw new DamagedStateError(`the node's state ${path} cannot be read: ${(cause as Error).message}`, {
      hint: `the file is damaged: move it aside (mv ${path} ${path}.damaged) and start the node again; it rebuilds from the chain`, details: { path }, cause
    })
  } finally {
    state?.close()
  }
}
