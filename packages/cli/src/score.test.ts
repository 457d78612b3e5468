import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { devnetAccount } from '@commons/chain'
import { writeTinyModel } from '@commons/node/testing/tinyModel'
import { commons, errorName, MAIN } from './testing.ts'

/**
 * `commons score` end to end on a devnet: an epoch funded and shown, settling before its
 * end refused; `score run` beside `commons serve` stakes as a validator, probes the
 * service for pay and commits its weights.
 */

let root: string
let home: string[]
const children: ChildProcess[] = []

/** Starts the CLI; resolves once its stderr (or stdout) matches `ready`. */
async function started (args: string[], ready: RegExp): Promise<{ child: ChildProcess, output: () => string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let all = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${args[0]} did not get to ${ready}: ${all}`)) }, 90_000)
    const look = (chunk: Buffer): void => {
      all += chunk.toString()
      if (ready.test(all)) { clearTimeout(timer); resolve() }
    }
    child.stdout?.on('data', look)
    child.stderr?.on('data', look)
    child.on('exit', code => { reject(new Error(`${args[0]} exited with ${code}: ${all}`)) })
  })
  return { child, output: () => all }
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-score-'))
  home = ['--home', root]
  assert.equal((await commons(['chain', 'up', '--detach', ...home])).code, 0)
  assert.equal((await commons(['chain', 'deploy', ...home])).code, 0)
  for (const i of [2, 3]) assert.equal((await commons(['chain', 'fund', devnetAccount(i).address, '--tokens', '100', ...home])).code, 0)
})

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await commons(['chain', 'down', ...home])
  await rm(root, { recursive: true, force: true })
})

describe('commons score', () => {
  it('funds and shows an epoch, refuses to settle it before its end', async () => {
    const help = await commons(['score', 'run', '--help'])
    assert.equal(help.code, 0)
    const funded = await commons(['score', 'fund', '--amount', '5', '--json', ...home])
    assert.equal(funded.code, 0, funded.stderr)
    const out = (await commons(['score', 'show', '--json', ...home])).stdout
    const shown = JSON.parse(out) as { epoch: number, phase: string, settled: boolean }
    assert.deepEqual([shown.epoch, shown.phase, shown.settled], [0, 'commit', false])
    assert.match(out, /"pool": 5000000000000000000\b/, 'bigints print exactly')
    const early = await commons(['score', 'settle', '--epoch', '0', '--json', ...home])
    assert.deepEqual([early.code, errorName(early)], [1, 'ContractRevertError'])
  })

  it('runs a scorer that pays a served model for probes and commits its weights', async () => {
    const run = join(root, 'run')
    await mkdir(run)
    await writeTinyModel(run, 5)
    await started(['serve', '--model', run, '--price', '0.01', '--stake', '20', '--account', '2', '--json', ...home], /"service"/)
    const scorer = await started(['score', 'run', '--model', run, '--stake', '30', '--probes', '2', '--tokens', '4', '--poll', '1', '--account', '3', ...home], /committed weights \d+:[1-9]/)
    assert.doesNotMatch(scorer.output(), /service \d+: /, 'no probe failed')
    scorer.child.kill('SIGINT')
  })
})
