import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAIN, REPO } from './testing.ts'

/**
 * The README's tour runs as written: its shell blocks, from "A tour of the CLI" to the
 * node's HTTP API, are run in order by bash (`set -e`) in a fresh directory that has the
 * repo's recipes, with `npx commons` being this checkout's CLI. Left out, and said here:
 * lines that run until Ctrl-C (`node start`, tested in cli.test.ts and nodeExplorer.test.ts)
 * and the ones around them that need that node, and lines naming a chain and key the
 * reader brings (`--rpc URL --key 0x...`, `demo --rpc`, tested in chainDeploy.test.ts and
 * hardhatDemo.test.ts).
 */

const LEFT_OUT = [/ node start/, / node status/, /chain fund node/, /^export COMMONS_PASSWORD/, /--rpc URL/, /demo --rpc/]

/** The README's tour: its ```sh blocks between the two headings, in order. */
export function tourBlocks (readme: string): string[] {
  const tour = readme.slice(readme.indexOf('## A tour of the CLI'), readme.indexOf('### The node\'s HTTP API'))
  return [...tour.matchAll(/```sh\n([\s\S]*?)```/g)].map(m => m[1])
}

const dir = await mkdtemp(join(tmpdir(), 'commons-readme-'))
const bin = join(dir, 'bin')
const work = join(dir, 'work')

after(async () => {
  await run('npx commons chain down || true').catch(() => {})
  await rm(dir, { recursive: true, force: true })
})

/** As a reader's shell: no COMMONS_HOME, so the home is ./.commons in the directory. */
function run (script: string): Promise<{ code: number, output: string }> {
  const { COMMONS_HOME: _home, ...env } = process.env
  return new Promise(resolve => {
    execFile('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: work, env: { ...env, PATH: `${bin}:${process.env.PATH ?? ''}` }, maxBuffer: 64 << 20, timeout: 900_000
    }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: stdout + stderr })
    })
  })
}

describe('the README', () => {
  it('runs its tour as written', { timeout: 1_000_000 }, async t => {
    await rm(work, { recursive: true, force: true })
    await mkdir(bin, { recursive: true })
    await mkdir(work, { recursive: true })
    await symlink(join(REPO, 'recipes'), join(work, 'recipes'))
    // `npx commons ...` is this checkout's CLI, as it is after `npm ci` in the repo.
    await writeFile(join(bin, 'npx'), `#!/bin/sh\n[ "$1" = commons ] || { echo "npx $1: not the commons CLI" >&2; exit 2; }\nshift\nexec "${process.execPath}" "${MAIN}" "$@"\n`)
    await chmod(join(bin, 'npx'), 0o755)
    const blocks = tourBlocks(await readFile(join(REPO, 'README.md'), 'utf8'))
    assert.ok(blocks.length >= 4, 'the tour has its blocks')
    const lines = blocks.join('\n').split('\n')
    const kept = lines.filter(line => !LEFT_OUT.some(re => re.test(line)))
    t.diagnostic(`${kept.filter(l => l.trim() !== '').length} lines run, ${lines.length - kept.length} left out`)
    const result = await run(kept.join('\n'))
    assert.equal(result.code, 0, `the tour failed:\n${result.output.slice(-4000)}`)
    assert.doesNotMatch(result.output, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace')
  })
})
