import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeTinyRun } from '@commons/node/testing/tinyModel'
import { commons, inferenceHomes, MAIN } from './testing.ts'

/**
 * Checking paid answers from the CLI on a devnet: `commons serve --lie-on 1` answers its
 * second request with one wrong token; `commons infer --verify` replays an honest answer
 * and finds nothing; `commons infer dispute ANSWER.json` replays the saved lie, opens the
 * dispute on-chain and plays it to the end while the serving node answers its side: the
 * provider is slashed.
 */

let root: string
let provider: string[]
let client: string[]
let serving: ChildProcess
let run: string

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-inferdispute-'))
  const homes = await inferenceHomes(root)
  provider = homes.provider
  client = homes.client
  run = join(root, 'run')
  await writeTinyRun(run, 5)
  serving = spawn(process.execPath, [MAIN, 'serve', '--model', run, '--price', '0.01', '--stake', '20', '--lie-on', '1', '--account', '2', '--json', ...provider], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  serving.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString() })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`serve did not start: ${err}`)) }, 120_000)
    serving.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      try {
        JSON.parse(out)
        clearTimeout(timer)
        resolve()
      } catch { /* not all of it yet */ }
    })
    serving.on('exit', code => { reject(new Error(`serve exited with ${code}: ${err}`)) })
  })
})

after(async () => {
  if (serving.exitCode === null) serving.kill('SIGKILL')
  await commons(['chain', 'down', ...provider])
  await rm(root, { recursive: true, force: true })
})

describe('commons infer --verify and infer dispute', () => {
  it('finds an honest answer right, and disputes a saved lie to the end: the provider is slashed', { timeout: 300_000 }, async () => {
    const honest = await commons(['infer', 'hello', '--tokens', '6', '--max-price', '0.05', '--verify', '--model', run, '--account', '1', '--json', ...client])
    assert.equal(honest.code, 0, honest.stderr)
    const checked = JSON.parse(honest.stdout) as { check: { wrongToken: number, dispute?: unknown } }
    assert.equal(checked.check.wrongToken, -1)
    assert.equal(checked.check.dispute, undefined)

    const lie = await commons(['infer', 'hello', '--tokens', '6', '--max-price', '0.05', '--account', '1', '--json', ...client])
    assert.equal(lie.code, 0, lie.stderr)
    const file = join(root, 'answer.json')
    await writeFile(file, lie.stdout)
    const disputed = await commons(['infer', 'dispute', file, '--model', run, '--account', '1', '--json', ...client])
    assert.equal(disputed.code, 0, disputed.stderr)
    const result = JSON.parse(disputed.stdout) as { wrongToken: number, dispute: { winner: string, reason: string } }
    assert.equal(result.wrongToken, 3, 'the middle token of six is the lie')
    assert.equal(result.dispute.winner, 'challenger', 'the provider is slashed (InferenceDisputes slashes the loser\'s service stake)')
    assert.equal(result.dispute.reason, 'mismatch')
  })
})
