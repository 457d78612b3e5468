import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './devnet.ts'
import { chainReady } from './chainProcess.ts'

/**
 * Hardhat's network (`hardhat node`, the npm package's EDR), a second EVM implementation
 * independent of anvil, on loopback: where tests check that nothing of Commons leans on
 * anvil alone. Its chain id (31337) and development accounts are anvil's; unlike anvil
 * it keeps no state across restarts. For tests and `commons demo --rpc`.
 */
export interface HardhatNetwork {
  rpcUrl: string
  port: number
  pid: number
  stop(): Promise<void>
}

/** The config Hardhat runs with (no sources: it compiles nothing). */
const CONFIG_DIR = fileURLToPath(new URL('../hardhat/', import.meta.url))

/** Starts `hardhat node` on a loopback port (a free one when left out); resolves once it answers RPC. */
export async function startHardhat (options: { port?: number, timeoutMs?: number } = {}): Promise<HardhatNetwork> {
  const port = options.port ?? await freePort()
  const cli = join(dirname(createRequire(import.meta.url).resolve('hardhat/package.json')), 'internal', 'cli', 'bootstrap.js')
  // Run from the config's folder inside the repo: Hardhat refuses to run from a folder it is not installed under.
  const child: ChildProcess = spawn(process.execPath, [cli, '--config', 'hardhat.config.cjs', 'node', '--hostname', '127.0.0.1', '--port', String(port)], {
    cwd: CONFIG_DIR,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true' }
  })
  const ready = await chainReady(child, port, { name: 'hardhat node', hint: `is port ${port} taken? is hardhat installed (npm ci)?`, timeoutMs: options.timeoutMs ?? 60_000, pollMs: 100 })
  return { rpcUrl: ready.rpcUrl, port, pid: ready.pid, stop: ready.stop }
}
