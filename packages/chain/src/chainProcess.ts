import type { ChildProcess } from 'node:child_process'
import { createPublicClient, http, type PublicClient } from 'viem'
import { DevnetError } from './errors.ts'

/** A local chain's process (anvil, hardhat node) once it answers RPC on loopback. */
export interface ChainProcess {
  rpcUrl: string
  pid: number
  client: PublicClient
  /** Stops it cleanly (SIGTERM, SIGKILL after 10 s) and waits for it to exit. */
  stop(): Promise<void>
}

export interface ReadyOptions {
  /** The program, for messages ("anvil"). */
  name: string
  /** What to check when it exits before it is ready. */
  hint: string
  details?: Record<string, unknown>
  timeoutMs: number
  pollMs: number
}

/** Waits until the chain `child` runs answers on `port`; fails with DevnetError if it exits first or takes too long. */
export async function chainReady (child: ChildProcess, port: number, options: ReadyOptions): Promise<ChainProcess> {
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  child.once('error', () => {})
  const rpcUrl = `http://127.0.0.1:${port}`
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) })
  const started = Date.now()
  for (;;) {
    if (child.exitCode !== null || child.pid === undefined) {
      throw new DevnetError(`${options.name} exited before it was ready: ${stderr.trim() || `exit code ${child.exitCode}`}`, { hint: options.hint, details: { port, ...options.details } })
    }
    try {
      await client.getChainId()
      break
    } catch {
      if (Date.now() - started > options.timeoutMs) {
        child.kill('SIGKILL')
        throw new DevnetError(`${options.name} did not answer on ${rpcUrl} within ${options.timeoutMs / 1000} s`, { details: { port } })
      }
      await new Promise(resolve => setTimeout(resolve, options.pollMs))
    }
  }
  return {
    rpcUrl,
    pid: child.pid,
    client,
    async stop () {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}
