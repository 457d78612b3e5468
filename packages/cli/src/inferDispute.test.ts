import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { devnetAccount } from '@commons/chain'
import { writeTinyRun } from '@commons/node/testing/tinyModel'
import { commitVersion, initDataset, openStore } from '@commons/store'
import { commons, inferenceHomes, MAIN } from './testing.ts'

/**
 * Checking paid answers from the CLI on a devnet: `commons serve --model CID --lie-on 2`
 * serves a published run and answers its third request with one wrong token; `commons
 * infer --verify` replays an honest answer (with --model RUN, and with no --model: the
 * service's run CID fetched from the provider) and finds nothing; `commons infer dispute
 * ANSWER.json` replays the saved lie (by a stranger's fresh home, the run fetched by CID;
 * and by the client with --model RUN), opens the dispute on-chain and plays it to the end
 * while the serving node answers its side: the provider is slashed.
 */

let root: string
let provider: string[]
let client: string[]
let serving: ChildProcess
let run: string
let cid: string

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-inferdispute-'))
  const homes = await inferenceHomes(root)
  provider = homes.provider
  client = homes.client
  run = join(root, 'run')
  await writeTinyRun(run, 5)
  // The provider's home holds the run as a published version: its service names it by CID.
  const store = await openStore(provider[1])
  await initDataset(store, 'run')
  cid = (await commitVersion(store, { name: 'run', path: run, message: 'run', author: 'test', time: 0 })).cid.toString()
  await store.close()
  serving = spawn(process.execPath, [MAIN, 'serve', '--model', cid, '--price', '0.01', '--stake', '20', '--lie-on', '2', '--account', '2', '--json', ...provider], { stdio: ['ignore', 'pipe', 'pipe'] })
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

    const fetched = await commons(['infer', 'hello', '--tokens', '6', '--max-price', '0.05', '--verify', '--account', '1', '--json', ...client])
    assert.equal(fetched.code, 0, fetched.stderr)
    assert.equal((JSON.parse(fetched.stdout) as { check: { wrongToken: number } }).check.wrongToken, -1, 'replayed with the service\'s run, fetched by CID')
    assert.ok(await stat(join(client[1], 'models', cid, 'model.safetensors')).then(() => true, () => false), 'the run was fetched into the client\'s home')

    const lie = await commons(['infer', 'hello', '--tokens', '6', '--max-price', '0.05', '--account', '1', '--json', ...client])
    assert.equal(lie.code, 0, lie.stderr)
    const file = join(root, 'answer.json')
    await writeFile(file, lie.stdout)
    // A stranger with an empty home disputes it: the run is fetched from the provider by its CID.
    const stranger = ['--home', join(root, 'stranger')]
    await mkdir(join(root, 'stranger', 'chain'), { recursive: true })
    for (const name of ['devnet.json', 'deployment.json']) await copyFile(join(provider[1], 'chain', name), join(root, 'stranger', 'chain', name))
    assert.equal((await commons(['chain', 'fund', devnetAccount(3).address, '--tokens', '100', ...provider])).code, 0)
    const byStranger = await commons(['infer', 'dispute', file, '--account', '3', '--json', ...stranger])
    assert.equal(byStranger.code, 0, byStranger.stderr)
    const strangers = JSON.parse(byStranger.stdout) as { wrongToken: number, dispute: { winner: string } }
    assert.equal(strangers.wrongToken, 3)
    assert.equal(strangers.dispute.winner, 'challenger')
    assert.ok(await stat(join(root, 'stranger', 'models', cid, 'model.safetensors')).then(() => true, () => false), 'fetched into the stranger\'s home')

    const disputed = await commons(['infer', 'dispute', file, '--model', run, '--account', '1', '--json', ...client])
    assert.equal(disputed.code, 0, disputed.stderr)
    const result = JSON.parse(disputed.stdout) as { wrongToken: number, dispute: { winner: string, reason: string } }
    assert.equal(result.wrongToken, 3, 'the middle token of six is the lie')
    assert.equal(result.dispute.winner, 'challenger', 'the provider is slashed (InferenceDisputes slashes the loser\'s service stake)')
    assert.equal(result.dispute.reason, 'mismatch')
  })
})
