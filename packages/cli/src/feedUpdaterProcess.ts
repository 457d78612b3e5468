import { spawn } from 'node:child_process'
import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import writeFileAtomic from 'write-file-atomic'
import { InvalidChainInputError } from '@commons/chain/core'
import { homeOf } from './chainContext.ts'
import type { GlobalOptions } from './output.ts'
import { pidAlive } from './pidAlive.ts'

/** The devnet's feed updater: its own process, so it keeps posting while `chain up --detach` has returned. */
export interface FeedUpdaterRecord {
  pid: number
  interval: number
  log: string
  startedAt: string
}

/** Seconds between the devnet updater's posts, unless `chain up --feed-interval` says otherwise. */
export const DEFAULT_FEED_INTERVAL = 10

/** An option parser for a number of seconds >= `min` (whole seconds if `whole`). */
export function seconds (flag: string, min: number, whole = false) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n < min || (whole && !Number.isInteger(n))) {
      throw new InvalidChainInputError(`${flag} must be a ${whole ? 'whole ' : ''}number of seconds >= ${min}, not "${value}"`, { hint: `for example ${flag} 60` })
    }
    return n
  }
}

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))

export const feedUpdaterFile = (options: GlobalOptions): string => join(homeOf(options), 'chain', 'feed-updater.json')
export const feedUpdaterLog = (options: GlobalOptions): string => join(homeOf(options), 'chain', 'feed-updater.log')

export async function readFeedUpdater (options: GlobalOptions): Promise<FeedUpdaterRecord | null> {
  try {
    return JSON.parse(await readFile(feedUpdaterFile(options), 'utf8')) as FeedUpdaterRecord
  } catch {
    return null
  }
}

/**
 * Starts `commons feed updater` for the devnet at `rpcUrl` (anvil pid `devnetPid`): it
 * signs with its own development key, posts every `interval` seconds once a deployment
 * is there, and exits by itself when the devnet process is gone, so it never outlives
 * the chain it feeds. Its output goes to `<home>/chain/feed-updater.log`.
 */
export async function startFeedUpdater (options: GlobalOptions, params: { rpcUrl: string, devnetPid: number, interval: number, detached: boolean }): Promise<FeedUpdaterRecord & { stop(): Promise<void> }> {
  const log = feedUpdaterLog(options)
  const out = await open(log, 'w')
  // Always the updater's own development key, even if the user's shell sets COMMONS_KEY:
  // two processes signing with one key would race for nonces.
  const env = { ...process.env }
  delete env.COMMONS_KEY
  const child = spawn(process.execPath, [
    // No --account: on a devnet, feed updater signs with its own development account.
    MAIN, '--home', homeOf(options), 'feed', 'updater', '--rpc', params.rpcUrl,
    '--interval', String(params.interval), '--devnet-pid', String(params.devnetPid)
  ], { stdio: ['ignore', out.fd, out.fd], detached: true, env })
  await out.close()
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  child.once('error', () => {})
  if (params.detached) child.unref()
  const record: FeedUpdaterRecord = { pid: child.pid ?? 0, interval: params.interval, log, startedAt: new Date().toISOString() }
  await writeFileAtomic(feedUpdaterFile(options), JSON.stringify(record, null, 2) + '\n')
  return {
    ...record,
    async stop () {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        await exited
      }
      await rm(feedUpdaterFile(options), { force: true })
    }
  }
}

/** Stops the updater a detached `chain up` left running; returns its pid, or null if none ran. */
export async function stopFeedUpdater (options: GlobalOptions): Promise<number | null> {
  const record = await readFeedUpdater(options)
  await rm(feedUpdaterFile(options), { force: true })
  if (record === null || record.pid <= 0 || !pidAlive(record.pid)) return null
  process.kill(record.pid, 'SIGTERM')
  for (let i = 0; i < 100 && pidAlive(record.pid); i++) await new Promise(resolve => setTimeout(resolve, 50))
  if (pidAlive(record.pid)) process.kill(record.pid, 'SIGKILL') // stuck on a post to a chain that no longer answers
  return record.pid
}
