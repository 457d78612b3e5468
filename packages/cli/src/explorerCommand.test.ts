import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { commons, errorName } from './testing.ts'

/** `commons explorer` mistakes end in a named error and exit code 1, never a stack trace. */

let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-explorer-cli-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

describe('commons explorer', () => {
  it('names what is wrong: no deployment, no chain, a bad port', async () => {
    const empty = join(root, 'empty')
    const dead = join(root, 'dead')
    await mkdir(join(dead, 'chain'), { recursive: true })
    await writeFile(join(dead, 'chain', 'deployment.json'), JSON.stringify({ chainId: 31337, rpcUrl: 'http://127.0.0.1:9', block: '0', contracts: {} }))
    const cases: Array<[string[], string]> = [
      [['explorer', '--home', empty], 'NotDeployedError'],
      [['explorer', '--home', dead], 'ChainUnreachableError'],
      [['explorer', '--home', dead, '--port', 'x'], 'UsageError']
    ]
    for (const [args, name] of cases) {
      const human = await commons(args)
      assert.equal(human.code, 1, human.stderr)
      assert.match(human.stderr, /^error: .+\nhint: .+/m)
      assert.doesNotMatch(human.stderr, /^\s+at /m, 'no stack trace')
      assert.equal(errorName(await commons([...args, '--json'])), name, args.join(' '))
    }
  })

  it('has --help', async () => {
    const help = await commons(['explorer', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /--rpc <url>/)
    assert.match(help.stdout, /--port <n>/)
  })
})
