import { execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))
export const REPO = fileURLToPath(new URL('../../../', import.meta.url))

export interface Run { code: number, stdout: string, stderr: string }

export interface RunOptions {
  env?: Record<string, string>
  cwd?: string
  /** Run as this user (only root may): how a test gets a permission error as root. */
  uid?: number
}

/** Runs the real CLI in its own process. */
export function commons (args: string[], options: RunOptions = {}): Promise<Run> {
  return new Promise(resolve => {
    execFile(process.execPath, [MAIN, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd, uid: options.uid, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : 1), stdout, stderr })
    })
  })
}

/** The name of the error a `--json` run reported on stderr. */
export function errorName (run: Run): string {
  try {
    return (JSON.parse(run.stderr) as { error: { name: string } }).error.name
  } catch {
    return `(no JSON error on stderr: ${run.stderr})`
  }
}

/**
 * Starts the CLI, sends it `signal` after `afterMs`, and resolves with its exit code,
 * how long it took to exit after the signal, and its stderr.
 */
export function interrupt (args: string[], afterMs: number, signal: NodeJS.Signals = 'SIGINT'): Promise<{ code: number | null, signal: NodeJS.Signals | null, exitMs: number, stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    let sentAt = 0
    const timer = setTimeout(() => { sentAt = Date.now(); child.kill(signal) }, afterMs)
    // A process that ignores the signal is killed after 10 s, and reported as such.
    const killer = setTimeout(() => { child.kill('SIGKILL') }, afterMs + 10_000)
    child.on('exit', (code, sig) => {
      clearTimeout(timer)
      clearTimeout(killer)
      resolve({ code, signal: sig, exitMs: sentAt === 0 ? -1 : Date.now() - sentAt, stderr })
    })
  })
}

/**
 * A devnet for the inference commands: started and deployed under `<root>/provider`, its
 * manifest copied to `<root>/client`, development accounts 1 (client) and 2 (provider)
 * funded; returns the `--home` arguments of each side.
 */
export async function inferenceHomes (root: string): Promise<{ provider: string[], client: string[] }> {
  const { copyFile, mkdir } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const { devnetAccount } = await import('@commons/chain')
  const provider = ['--home', join(root, 'provider')]
  const client = ['--home', join(root, 'client')]
  const must = async (args: string[]): Promise<void> => {
    const run = await commons(args)
    if (run.code !== 0) throw new Error(`commons ${args.join(' ')} failed: ${run.stderr}`)
  }
  await must(['chain', 'up', '--detach', ...provider])
  await must(['chain', 'deploy', ...provider])
  await mkdir(join(root, 'client', 'chain'), { recursive: true })
  for (const file of ['devnet.json', 'deployment.json']) await copyFile(join(root, 'provider', 'chain', file), join(root, 'client', 'chain', file))
  for (const i of [1, 2]) await must(['chain', 'fund', devnetAccount(i).address, '--tokens', '100', ...provider])
  return { provider, client }
}
