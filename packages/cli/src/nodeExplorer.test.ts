import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from '@commons/node/testing/until'
import { commons, MAIN } from './testing.ts'

/**
 * `commons node start --explorer-port 0`: the node says where its explorer is, the
 * explorer answers for the home's deployment, the port is kept in node/config.json, and
 * Ctrl-C stops both.
 */

let root: string
let home: string
let child: ChildProcess | undefined

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-node-explorer-cli-'))
  home = join(root, 'node')
  assert.equal((await commons(['chain', 'up', '--detach', '--home', home])).code, 0)
  assert.equal((await commons(['chain', 'deploy', '--home', home])).code, 0)
}, { timeout: 180_000 })

after(async () => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL')
  await commons(['chain', 'down', '--home', home])
  await rm(root, { recursive: true, force: true })
})

describe('commons node start --explorer-port', () => {
  it('serves the explorer of the home\'s deployment until the node stops', { timeout: 180_000 }, async () => {
    child = spawn(process.execPath, [MAIN, 'node', 'start', '--roles', 'requester', '--explorer-port', '0', '--home', home, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COMMONS_PASSWORD: 'test password' } })
    const started = child
    let err = ''
    started.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString() })
    const info = await new Promise<{ explorer: string | null }>((resolve, reject) => {
      let out = ''
      started.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        try { resolve(JSON.parse(out) as { explorer: string | null }) } catch {}
      })
      started.on('exit', code => { reject(new Error(`node start exited ${code}: ${err}`)) })
    })
    assert.ok(info.explorer !== null, 'the node says where its explorer is')
    const manifest = JSON.parse(await readFile(join(home, 'chain', 'deployment.json'), 'utf8')) as { contracts: { market: string } }
    type Summary = { contracts: { market: string }, indexedTo: string | null }
    const summary = async (): Promise<Summary> => await (await fetch(new URL('api/summary', info.explorer ?? ''))).json() as Summary
    assert.equal((await summary()).contracts.market, manifest.contracts.market)
    // The node serves at once and indexes behind: the index reaches the chain's head soon after.
    await until('the explorer has indexed the deployment', async () => (await summary()).indexedTo !== null, { timeoutMs: 30_000, everyMs: 200 })
    assert.match(await (await fetch(info.explorer)).text(), /Commons explorer/)
    assert.equal((JSON.parse(await readFile(join(home, 'node', 'config.json'), 'utf8')) as { explorerPort?: number }).explorerPort, 0, 'the setting is kept')
    const exit = new Promise<number | null>(resolve => started.once('exit', resolve))
    started.kill('SIGINT')
    assert.equal(await exit, 0, err)
    await assert.rejects(fetch(info.explorer), 'the explorer stopped with the node')
  })
})
