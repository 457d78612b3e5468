import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { devnetAccount } from '@commons/chain'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))
const HEAD = 'bafyreigezfizmnk4llquwjxtfcozdirvwcx52t7yojbw3aomniojb2d37i'

interface Run { code: number, stdout: string, stderr: string }

/** Runs the real CLI in its own process. */
function commons (args: string[]): Promise<Run> {
  return new Promise(resolve => {
    execFile(process.execPath, [MAIN, ...args], { maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : 1), stdout, stderr })
    })
  })
}

let root: string
let h: string[]
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-dao-fork-'))
  h = ['--home', join(root, 'home')]
  const up = await commons(['chain', 'up', '--detach', ...h])
  assert.equal(up.code, 0, up.stderr)
  assert.equal((await commons(['chain', 'deploy', ...h])).code, 0)
})
after(async () => {
  await commons(['chain', 'down', ...h])
  await rm(root, { recursive: true, force: true })
})

describe('commons dao fork', () => {
  it('takes escrowed shares back with --withdraw when the fork stays below its threshold', async () => {
    const founder = devnetAccount(0).address
    const member = devnetAccount(1).address
    const created = await commons(['dao', 'create', 'wayback', '--head', HEAD, '--member', `${founder}:90`, '--member', `${member}:10`, ...h])
    assert.equal(created.code, 0, created.stderr)
    // Amounts are compared as strings: the JSON output may carry them as numbers or strings.
    const escrowed = JSON.parse((await commons(['dao', 'fork', 'wayback', '--account', '1', '--json', ...h])).stdout) as { escrowed: unknown, forked: boolean }
    assert.deepEqual([String(escrowed.escrowed), escrowed.forked], ['10', false], '10 of 100 is below the 20% threshold')

    const tooMany = await commons(['dao', 'fork', 'wayback', '--withdraw', '--shares', '11', '--account', '1', '--json', ...h])
    assert.equal(tooMany.code, 1)
    assert.equal((JSON.parse(tooMany.stderr) as { error: { name: string } }).error.name, 'InvalidChainInputError')

    const back = await commons(['dao', 'fork', 'wayback', '--withdraw', '--account', '1', '--json', ...h])
    assert.equal(back.code, 0, back.stderr)
    assert.equal(String((JSON.parse(back.stdout) as { withdrawn: unknown }).withdrawn), '10')
    const shown = JSON.parse((await commons(['dao', 'show', 'wayback', '--json', ...h])).stdout) as { escrowedToFork: unknown, members: Array<{ account: string, shares: unknown }> }
    assert.equal(String(shown.escrowedToFork), '0')
    assert.equal(String(shown.members.find(m => m.account === member)?.shares), '10', 'the shares are back')

    const nothing = await commons(['dao', 'fork', 'wayback', '--withdraw', '--account', '1', '--json', ...h])
    assert.equal(nothing.code, 1, 'nothing left in escrow')
  })
})
