import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeTinyModel } from '@commons/node/testing/tinyModel'
import { commons, errorName, inferenceHomes, MAIN } from './testing.ts'

/**
 * The inference commands end to end on a devnet: `commons serve` registers a service with
 * stake and serves a small model; `commons infer` picks it, opens a channel, pays by
 * voucher and checks the receipt; `commons channel show` reads the channel; stopping the
 * provider claims its vouchers.
 */

let root: string
let provider: string[]
let client: string[]
let serving: ChildProcess
let served: { provider: string, service: string, http: string }
let run: string

/** Starts `commons serve` as provider account 2; resolves with what it prints once serving. */
async function serve (model: string): Promise<{ child: ChildProcess, served: typeof served }> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--model', model, '--price', '0.01', '--stake', '20', '--account', '2', '--json', ...provider], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const started = await new Promise<typeof served>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`serve did not start: ${err}`)) }, 60_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      try {
        resolve(JSON.parse(out) as typeof served)
        clearTimeout(timer)
      } catch { /* not all of it yet */ }
    })
    child.on('exit', code => { reject(new Error(`serve exited with ${code}: ${err}`)) })
  })
  return { child, served: started }
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-infer-'))
  const homes = await inferenceHomes(root)
  provider = homes.provider
  client = homes.client
  run = join(root, 'run')
  await mkdir(run)
  await writeTinyModel(run, 5)
  const started = await serve(run)
  serving = started.child
  served = started.served
})

after(async () => {
  if (serving.exitCode === null) serving.kill('SIGKILL')
  await commons(['chain', 'down', ...provider])
  await rm(root, { recursive: true, force: true })
})

describe('commons serve, infer and channel', () => {
  it('pays a registered provider through a channel and gets a signed receipt; a provider too dear is refused', async () => {
    const answer = await commons(['infer', 'hello', '--tokens', '6', '--max-price', '0.05', '--seed', '3', '--temperature', '0.9', '--account', '1', '--json', ...client])
    assert.equal(answer.code, 0, answer.stderr)
    const result = JSON.parse(answer.stdout) as { text: string, provider: string, paid: string, receipt: { params: { seed: number, tokens: number }, cost: string } }
    assert.equal(result.provider, served.provider)
    assert.deepEqual([result.receipt.params.seed, result.receipt.params.tokens], [3, 6])
    const again = JSON.parse((await commons(['infer', 'hello', '--tokens', '6', '--max-price', '0.05', '--seed', '3', '--temperature', '0.9', '--account', '1', '--json', ...client])).stdout) as typeof result
    assert.equal(again.text, result.text, 'the same seed gives the same answer')
    const dear = await commons(['infer', 'hello', '--max-price', '0.001', '--account', '1', '--json', ...client])
    assert.equal(errorName(dear), 'InvalidChainInputError')
    const nowhere = await commons(['serve', '--model', join(root, 'no-such-run'), '--price', '1', '--account', '2', '--json', ...provider])
    assert.deepEqual([nowhere.code, errorName(nowhere)], [1, 'UsageError'], 'neither a run directory nor a CID')
    const shown = JSON.parse((await commons(['channel', 'show', '--provider', served.provider, '--account', '1', '--json', ...client])).stdout) as { signed: string, claimed: string, open: boolean }
    assert.equal(shown.open, true)
    assert.equal(String(shown.signed), String(BigInt(result.receipt.cost) * 2n), 'two answers signed for')
  })

  it('claims the vouchers when the provider stops', async () => {
    serving.kill('SIGINT')
    await new Promise(resolve => serving.once('exit', resolve))
    const shown = JSON.parse((await commons(['channel', 'show', '--provider', served.provider, '--account', '1', '--json', ...client])).stdout) as { signed: string, claimed: string }
    assert.equal(String(shown.claimed), String(shown.signed))
    const nothing = await commons(['channel', 'claim', '--account', '2', '--json', ...provider])
    assert.equal(nothing.code, 0, nothing.stderr)
    assert.deepEqual((JSON.parse(nothing.stdout) as { claimed: unknown[] }).claimed, [])
  })

  it('serves the same model again under the same service after a restart', async () => {
    const again = await serve(run)
    serving = again.child
    assert.equal(String(again.served.service), String(served.service), 'updated, not registered twice')
    serving.kill('SIGINT')
    await new Promise(resolve => serving.once('exit', resolve))
  })
})
