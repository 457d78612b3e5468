import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { access, mkdir } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { createPublicClient, http, type PublicClient } from 'viem'
import { chainReady } from './chainProcess.ts'

export interface DevnetOptions {
  /** State is persisted to `<home>/chain/anvil-state.json` and reloaded on the next start. */
  home: string
  /** Loopback port; a free one when left out. */
  port?: number
  /** Seconds between state dumps (anvil also dumps on a clean stop). */
  stateInterval?: number
  /** Keep anvil running after this process exits (stop it later by pid). */
  detached?: boolean
}

export interface Devnet {
  rpcUrl: string
  port: number
  pid: number
  stateFile: string
  /** Stops anvil cleanly (it writes its state first) and waits for it to exit. */
  stop(): Promise<void>
}

/** Path of the anvil binary shipped in the npm package. */
export function anvilPath (): string {
  const require = createRequire(import.meta.url)
  try {
    return join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil')
  } catch {
    return 'anvil' // another platform: whatever anvil is on PATH
  }
}

export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0) })
    })
  })
}

/** The genesis time of the last fresh devnet this process started (seconds). */
let lastGenesis = 0

/**
 * A genesis time no other fresh devnet of this process has. Two anvils started in the
 * same second with the same settings have the same genesis block, and a connection knows
 * a chain by its id and genesis hash (clients.ts): they would share one nonce manager, and
 * the second chain would be sent the first one's nonces and never mine them.
 */
function uniqueGenesis (): number {
  lastGenesis = Math.max(Math.floor(Date.now() / 1000), lastGenesis + 1)
  return lastGenesis
}

/** Starts anvil on loopback with state under the home; resolves once it answers RPC. */
export async function startDevnet (options: DevnetOptions): Promise<Devnet> {
  const port = options.port ?? await freePort()
  const stateFile = join(options.home, 'chain', 'anvil-state.json')
  await mkdir(dirname(stateFile), { recursive: true })
  // A chain reloaded from its state keeps its genesis; a fresh one gets its own.
  const fresh = await access(stateFile).then(() => false, () => true)
  const child: ChildProcess = spawn(anvilPath(), [
    '--host', '127.0.0.1', '--port', String(port),
    '--state', stateFile, '--state-interval', String(options.stateInterval ?? 5),
    ...(fresh ? ['--timestamp', String(uniqueGenesis())] : []),
    '--silent'
  ], { stdio: ['ignore', 'ignore', options.detached === true ? 'ignore' : 'pipe'], detached: options.detached === true })
  const ready = await chainReady(child, port, { name: 'anvil', hint: `is port ${port} taken? is ${stateFile} a valid state file?`, details: { stateFile }, timeoutMs: 20_000, pollMs: 50 })
  await keepClockAhead(ready.client)
  if (options.detached === true) child.unref()
  return { rpcUrl: ready.rpcUrl, port, pid: ready.pid, stateFile, stop: ready.stop }
}

/**
 * anvil reloaded from its state file restarts its clock at the wall time, which is
 * behind its own last block when the chain was moved forward (evm_increaseTime) before
 * it stopped: the next block would be older than the head, and every deadline, vote
 * window and price round would see time run backwards. The clock moves up to the head's
 * time, as an unbroken chain's would be.
 */
export async function keepClockAhead (client: Pick<PublicClient, 'getBlock' | 'request'>): Promise<void> {
  const [head, pending] = await Promise.all([client.getBlock(), client.getBlock({ blockTag: 'pending' })])
  if (pending.timestamp >= head.timestamp) return
  await client.request({ method: 'evm_increaseTime' as never, params: [Number(head.timestamp - pending.timestamp)] as never })
}

/** Moves a devnet's clock forward and mines a block (anvil and Hardhat's network both answer evm_increaseTime and evm_mine). */
export async function advanceTime (rpcUrl: string, seconds: number): Promise<void> {
  const client = createPublicClient({ transport: http(rpcUrl) })
  await client.request({ method: 'evm_increaseTime' as never, params: [seconds] as never })
  await client.request({ method: 'evm_mine' as never, params: [] as never })
}

/**
 * Mines `blocks` empty blocks at once (`hardhat_mine`, which anvil and Hardhat's network
 * both answer): how a test puts a chain past a provider's log range cap.
 */
export async function mineBlocks (rpcUrl: string, blocks: number): Promise<void> {
  // Thousands of blocks take anvil seconds (it keeps every block in its state dump).
  const client = createPublicClient({ transport: http(rpcUrl, { timeout: 120_000 }) })
  await client.request({ method: 'hardhat_mine' as never, params: [`0x${blocks.toString(16)}`] as never })
}
