import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { advanceTime } from '@commons/chain'
import { until as waitUntil } from '@commons/node/testing/until'
import { pidAlive } from './pidAlive.ts'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))

interface Run { code: number, stdout: string, stderr: string }

/** Runs the real CLI in its own process. */
function commons (args: string[]): Promise<Run> {
  const env = { ...process.env }
  delete env.COMMONS_KEY // the development accounts sign
  return new Promise(resolve => {
    execFile(process.execPath, [MAIN, ...args], { env }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : 1), stdout, stderr })
    })
  })
}

const errorOf = (run: Run): { name: string, details: Record<string, unknown> } => (JSON.parse(run.stderr) as { error: { name: string, details: Record<string, unknown> } }).error

/** Polls every 50 ms, for 10 s unless told otherwise. */
const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> => waitUntil(what, check, { timeoutMs: ms, everyMs: 50 })

interface Reading { roundId: string, answer: string, price: string, age: number, maxAge: number, verdict: string }

let root: string
let h: string[]
let rpcUrl: string
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-feed-cli-'))
  h = ['--home', join(root, 'home')]
})
after(async () => {
  await commons(['chain', 'down', ...h])
  await commons(['chain', 'down', '--home', join(root, 'quiet')])
  await commons(['chain', 'down', '--home', join(root, 'foreground')])
  await rm(root, { recursive: true, force: true })
})

describe('commons feed', () => {
  it('chain up starts an updater that keeps a deployed devnet\'s price fresh', async () => {
    const up = await commons(['chain', 'up', '--detach', '--feed-interval', '0.2', '--json', ...h])
    assert.equal(up.code, 0, up.stderr)
    rpcUrl = (JSON.parse(up.stdout) as { rpcUrl: string }).rpcUrl
    const before = await commons(['feed', 'read', '--json', ...h])
    assert.equal(before.code, 1)
    assert.equal(errorOf(before).name, 'NotDeployedError')
    assert.equal((await commons(['chain', 'deploy', '--json', ...h])).code, 0)
    let first: Reading | undefined
    await until('the updater\'s first round', async () => {
      const run = await commons(['feed', 'read', '--json', ...h])
      first = run.code === 0 ? JSON.parse(run.stdout) as Reading : undefined
      return first !== undefined && BigInt(first.roundId) >= 2n
    })
    assert.equal(first?.verdict, 'fresh')
    const log = await readFile(join(root, 'home', 'chain', 'feed-updater.log'), 'utf8')
    assert.match(log, /round 2: \d+/)
  })

  it('the updater freshens a price made stale by a jump of the chain\'s clock', async () => {
    await advanceTime(rpcUrl, 7200)
    await until('a fresh price again', async () => (await commons(['feed', 'read', '--max-age', '60', ...h])).code === 0)
  })

  it('a stale price is printed and exits 1 with StalePriceError; --allow-stale exits 0', async () => {
    // A devnet of its own whose updater waits an hour between posts: nothing races the clock jump.
    const quiet = ['--home', join(root, 'quiet')]
    assert.equal((await commons(['chain', 'up', '--detach', '--feed-interval', '3600', ...quiet])).code, 0)
    try {
      assert.equal((await commons(['chain', 'deploy', ...quiet])).code, 0)
      const fresh = await commons(['feed', 'read', '--json', ...quiet])
      assert.equal(fresh.code, 0, fresh.stderr)
      // Round 1 from deploy, or round 2 if the updater's first tick came after the deploy.
      assert.equal((JSON.parse(fresh.stdout) as Reading).verdict, 'fresh')
      const devnet = JSON.parse(await readFile(join(root, 'quiet', 'chain', 'devnet.json'), 'utf8')) as { rpcUrl: string }
      await advanceTime(devnet.rpcUrl, 3601)
      const stale = await commons(['feed', 'read', '--json', ...quiet])
      assert.equal(stale.code, 1)
      assert.equal(errorOf(stale).name, 'StalePriceError')
      const reading = JSON.parse(stale.stdout) as Reading
      assert.equal(reading.verdict, 'stale')
      assert.ok(reading.age > 3600, `age ${reading.age}`)
      const human = await commons(['feed', 'read', ...quiet])
      assert.match(human.stdout, /STALE/)
      assert.equal(human.code, 1)
      assert.equal((await commons(['feed', 'read', '--allow-stale', ...quiet])).code, 0)
      assert.equal((await commons(['feed', 'read', '--max-age', '7200', ...quiet])).code, 0)
      // A post makes it fresh at once.
      assert.equal((await commons(['feed', 'update', '2999.99', ...quiet])).code, 0)
      assert.equal((await commons(['feed', 'read', ...quiet])).code, 0)
    } finally {
      await commons(['chain', 'down', ...quiet])
    }
  })

  it('update posts as an updater, and refuses a bad price or a key without the role', async () => {
    const posted = await commons(['feed', 'update', '3100.5', '--json', ...h])
    assert.equal(posted.code, 0, posted.stderr)
    assert.equal((JSON.parse(posted.stdout) as { answer: string }).answer, '310050000000')
    for (const maxAge of ['1.5', 'x', '1e400']) {
      const run = await commons(['feed', 'read', '--max-age', maxAge, '--json', ...h])
      assert.equal(run.code, 1, maxAge)
      assert.equal(errorOf(run).name, 'InvalidChainInputError', maxAge)
    }
    for (const price of ['0', '0.00000000', 'abc', '1.123456789', '']) {
      const run = await commons(['feed', 'update', price, '--json', ...h])
      assert.equal(run.code, 1, price)
      assert.equal(errorOf(run).name, 'InvalidChainInputError', price)
    }
    const mallory = await commons(['feed', 'update', '1', '--account', '3', '--json', ...h])
    assert.equal(mallory.code, 1)
    assert.equal(errorOf(mallory).name, 'ContractRevertError')
    assert.equal(errorOf(mallory).details.error, 'NotUpdater')
    const grab = await commons(['feed', 'grant', '0x90F79bf6EB2c4f870365E785982E1f101E93b906', '--account', '3', '--json', ...h])
    assert.equal(grab.code, 1)
    assert.equal(errorOf(grab).details.error, 'OwnableUnauthorizedAccount', 'only the owner grants')
    assert.equal((await commons(['feed', 'grant', '0x90F79bf6EB2c4f870365E785982E1f101E93b906', ...h])).code, 0)
    assert.equal((await commons(['feed', 'update', '1', '--account', '3', ...h])).code, 0)
  })

  it('chain down stops the updater; a killed devnet takes its updater with it', async () => {
    const record = JSON.parse(await readFile(join(root, 'home', 'chain', 'feed-updater.json'), 'utf8')) as { pid: number }
    assert.ok(pidAlive(record.pid))
    assert.equal((await commons(['chain', 'down', ...h])).code, 0)
    assert.equal(pidAlive(record.pid), false, 'updater stopped')
    await assert.rejects(stat(join(root, 'home', 'chain', 'feed-updater.json')), { code: 'ENOENT' })

    const up = await commons(['chain', 'up', '--detach', '--feed-interval', '0.2', '--json', ...h])
    assert.equal(up.code, 0, up.stderr)
    const anvil = (JSON.parse(up.stdout) as { pid: number }).pid
    const updater = (JSON.parse(await readFile(join(root, 'home', 'chain', 'feed-updater.json'), 'utf8')) as { pid: number }).pid
    const read = await commons(['feed', 'read', '--allow-stale', ...h])
    assert.equal(read.code, 0, `the saved state kept the feed: ${read.stderr}`)
    // Killed at any moment, a post in flight or not: the updater watches it on a clock of its own.
    process.kill(anvil, 'SIGKILL')
    await until('the updater to notice its devnet is gone', () => !pidAlive(updater), 5000)
  })

  it('a foreground chain up stops its updater on Ctrl-C', async () => {
    const fg = join(root, 'foreground')
    const child = spawn(process.execPath, [MAIN, 'chain', 'up', '--feed-interval', '0.2', '--home', fg], { stdio: 'ignore' })
    const exited = new Promise<number | null>(resolve => { child.once('exit', code => { resolve(code) }) })
    let updater = 0
    await until('the updater to start', async () => {
      try {
        updater = (JSON.parse(await readFile(join(fg, 'chain', 'feed-updater.json'), 'utf8')) as { pid: number }).pid
        return true
      } catch {
        return false
      }
    })
    assert.ok(pidAlive(updater))
    child.kill('SIGINT')
    assert.equal(await exited, 0)
    assert.equal(pidAlive(updater), false, 'updater stopped with its devnet')
    await assert.rejects(stat(join(fg, 'chain', 'feed-updater.json')), { code: 'ENOENT' })
  })
})
