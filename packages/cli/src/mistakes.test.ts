import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { commons, errorName, interrupt, REPO } from './testing.ts'

/**
 * What a new user's trial of the CLI ran into: each mistake ends in a named error,
 * exit code 1 and nothing written, never a stack trace.
 */
let root: string
before(async () => { root = await mkdtemp(join(tmpdir(), 'commons-mistakes-')) })
after(async () => { await rm(root, { recursive: true, force: true }) })

/** Whether every folder from `/` down to `dir` lets other users through (o+x). */
async function othersMayEnter (dir: string): Promise<boolean> {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (((await stat(d)).mode & 0o001) === 0) return false
    if (dirname(d) === d) return true
  }
}

const NO_TRACE = /unexpected error|\n\s+at /

/**
 * Runs `args --json`: asserts exit code 1, the error's name, and no stack trace; then
 * (unless `human` is false, for slow commands) without --json: `error:` and `hint:` lines.
 */
async function refused (args: string[], name: string, options: Parameters<typeof commons>[1] & { human?: boolean } = {}): Promise<void> {
  const run = await commons([...args, '--json'], options)
  assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`)
  assert.equal(errorName(run), name, args.join(' '))
  assert.doesNotMatch(run.stderr, NO_TRACE, args.join(' '))
  if (options.human === false) return
  const human = await commons(args, options)
  assert.equal(human.code, 1, args.join(' '))
  assert.match(human.stderr, /^error: .+\nhint: .+/m, args.join(' '))
}

describe('the CLI on a new user\'s mistakes', () => {
  it('has --version', async () => {
    const run = await commons(['--version'])
    assert.equal(run.code, 0)
    const { version } = JSON.parse(await readFile(join(REPO, 'packages/cli/package.json'), 'utf8')) as { version: string }
    assert.equal(run.stdout.trim(), version)
  })

  it('refuses --home "" and a file as --home, and writes nothing in the current directory', async () => {
    const cwd = join(root, 'cwd')
    await mkdir(cwd)
    const file = join(root, 'a-file')
    await writeFile(file, 'not a directory\n')
    await refused(['dataset', 'init', 'x', '--home', ''], 'UsageError', { cwd })
    await refused(['dataset', 'init', 'x', '--home', file], 'UsageError', { cwd })
    await refused(['dataset', 'list', '--home', join(file, 'below')], 'FileAccessError', { cwd })
    assert.deepEqual(await readdir(cwd), [])
    assert.equal(await readFile(file, 'utf8'), 'not a directory\n')
  })

  it('names an unreadable home', async t => {
    // Root reads through permissions: run as nobody there (a child may only change user as
    // root), which needs a checkout that others may enter (a clone in a mktemp -d is not).
    const uid = process.getuid?.() === 0 ? 65534 : undefined
    if (uid !== undefined && !(await othersMayEnter(REPO))) {
      t.skip(`${REPO} is not readable by other users, so the CLI cannot run as nobody here`)
      return
    }
    const home = join(root, 'locked')
    await mkdir(join(home, 'datasets'), { recursive: true })
    await chmod(home, 0o000)
    try {
      await refused(['dataset', 'list', '--home', home], 'FileAccessError', { uid, cwd: tmpdir() })
    } finally {
      await chmod(home, 0o755)
    }
  })

  it('refuses --time past any date, so the history stays printable', async () => {
    const h = ['--home', join(root, 'home-time')]
    const source = join(root, 'time-src')
    await mkdir(source)
    await writeFile(join(source, 'a.txt'), 'a\n')
    assert.equal((await commons(['dataset', 'init', 't', ...h])).code, 0)
    await refused(['dataset', 'commit', 't', source, '-m', 'x', '--time', '1e20', ...h], 'UsageError')
    await refused(['dataset', 'log', 't', ...h], 'EmptyDatasetError')
    assert.equal((await commons(['dataset', 'commit', 't', source, '-m', 'x', '--time', '253402300799', ...h])).code, 0)
    const log = await commons(['dataset', 'log', 't', ...h])
    assert.equal(log.code, 0, log.stderr)
  })

  it('lists the other datasets when one ref file is damaged, names it, and exits 1', async () => {
    const home = join(root, 'home-refs')
    for (const name of ['a', 'b', 'c']) assert.equal((await commons(['dataset', 'init', name, '--home', home])).code, 0)
    await writeFile(join(home, 'datasets', 'b.json'), '{"name": "b", "hea')
    const run = await commons(['dataset', 'list', '--json', '--home', home])
    assert.equal(run.code, 1)
    assert.deepEqual((JSON.parse(run.stdout) as Array<{ name: string }>).map(d => d.name), ['a', 'c'])
    assert.match(run.stderr, /\(DamagedRefError\)/)
    assert.doesNotMatch(run.stderr, NO_TRACE)
    await refused(['dataset', 'log', 'b', '--home', home], 'DamagedRefError')
  })

  it('checks node start\'s input before starting a node', async () => {
    const home = join(root, 'home-node')
    const h = ['--home', home]
    await refused(['node', 'start', '--api-port', '99999', ...h], 'UsageError', { human: false })
    await refused(['node', 'start', '--check-steps', 'some', ...h], 'UsageError', { human: false })
    await refused(['node', 'start', '--check-probability', '1.5', ...h], 'UsageError', { human: false })
    await refused(['node', 'start', '--log-range', '0', ...h], 'UsageError', { human: false })
    await refused(['node', 'start', '--min-reward', 'lots', ...h], 'UsageError', { human: false })
    await refused(['node', 'start', '--listen', '/ip4/1.2.3', ...h], 'InvalidMultiaddrError', { human: false })
    await refused(['node', 'start', '--listen', 'localhost:4001', ...h], 'InvalidMultiaddrError', { human: false })
    // The README's old placeholder, and an address without a peer id.
    await refused(['node', 'start', '--bootstrap', '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...', ...h], 'InvalidMultiaddrError', { human: false })
    await refused(['node', 'start', '--bootstrap', '/ip4/127.0.0.1/tcp/4001', ...h], 'InvalidMultiaddrError', { human: false })
    await refused(['node', 'start', '--password-file', join(root, 'no-password'), ...h], 'PasswordFileError', { human: false })
    await mkdir(join(home, 'node'), { recursive: true })
    await writeFile(join(home, 'node', 'state.db'), 'this is not SQLite\n'.repeat(100))
    await writeFile(join(home, 'node', 'keystore.json'), '{"address": "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"}\n')
    await refused(['node', 'start', ...h], 'DamagedStateError', { human: false })
    await refused(['node', 'status', ...h], 'DamagedStateError')
    assert.deepEqual((await readdir(join(home, 'node'))).sort(), ['keystore.json', 'state.db'], 'no config written, nothing started')
  })

  it('refuses a bad --account, a fault past the last step and a bad --fault, by name', async () => {
    const h = ['--home', join(root, 'home-misc')]
    await refused(['chain', 'status', '--account', 'x', ...h], 'UsageError')
    await refused(['chain', 'status', '--account', '10', ...h], 'UsageError')
    await refused(['demo', '--steps', '6', '--fault', 'step=999999', ...h], 'UsageError')
    await refused(['demo', '--fault', 'step=x', ...h], 'FaultSpecError')
    await refused(['node', 'start', '--roles', 'miner', ...h], 'UsageError', { human: false })
  })
})

describe('train, replay and generate on a new user\'s mistakes', () => {
  let run: string
  let recipe: string
  const corpus = join(REPO, 'packages/engine/fixtures/corpus.txt')
  before(async () => {
    const tiny = JSON.parse(await readFile(join(REPO, 'recipes/tiny.json'), 'utf8')) as Record<string, unknown>
    recipe = join(root, 'quick.json')
    await writeFile(recipe, JSON.stringify({ ...tiny, steps: 4, checkpointInterval: 2 }))
    run = join(root, 'run')
    const trained = await commons(['train', recipe, '--data', corpus, '--out', run, '--json'])
    assert.equal(trained.code, 0, trained.stderr)
  })

  it('leaves no --out behind when training fails before its first step', async () => {
    const short = join(root, 'short.txt')
    await writeFile(short, 'hi')
    const out = join(root, 'failed-run')
    // The engine finds the data too short after the run directory is made.
    await refused(['train', recipe, '--data', short, '--out', out], 'ShapeError', { human: false })
    await assert.rejects(readdir(out), { code: 'ENOENT' })
  })

  it('refuses a recipe too large to allocate', async () => {
    const tiny = JSON.parse(await readFile(recipe, 'utf8')) as { model: Record<string, unknown> }
    const huge = join(root, 'huge.json')
    // Every dimension within what the chain can check (2048), but 1.2 billion parameters.
    await writeFile(huge, JSON.stringify({ ...tiny, model: { ...tiny.model, dModel: 2048, hidden: 2048, heads: 16, layers: 40 } }))
    const out = join(root, 'huge-run')
    await refused(['train', huge, '--data', corpus, '--out', out], 'RecipeTooLargeError')
    await refused(['job', 'spec', '--dataset', 'x', '--recipe', huge, '--reward', '1', '--stake', '1', '--home', join(root, 'home-huge')], 'RecipeTooLargeError')
    await assert.rejects(readdir(out), { code: 'ENOENT' })
  })

  it('refuses replay --from past the run\'s last state', async () => {
    await refused(['replay', run, '--from', '5'], 'RunDirError')
    const ok = JSON.parse((await commons(['replay', run, '--from', '4', '--json'])).stdout) as { checked: number, firstMismatch: unknown }
    assert.deepEqual([ok.checked, ok.firstMismatch], [1, null])
  })

  it('generates from an empty prompt, bounds --tokens, and names a run without weights', async () => {
    const empty = await commons(['generate', run, '', '--tokens', '8', '--json'])
    assert.equal(empty.code, 0, empty.stderr)
    const out = JSON.parse(empty.stdout) as { prompt: string, tokens: number[] }
    assert.equal(out.prompt, '')
    assert.equal(out.tokens.length, 8)
    assert.ok(out.tokens.every(t => Number.isInteger(t) && t >= 0 && t < 256))
    await refused(['generate', run, 'The ', '--tokens', '100000'], 'UsageError')
    await refused(['generate', run, 'The ', '--tokens', '0'], 'UsageError')
    await mkdir(join(root, 'no-weights'))
    await refused(['generate', join(root, 'no-weights'), 'hi'], 'RunDirError')
  })

  it('stops a long generation on Ctrl-C at once', async () => {
    const stopped = await interrupt(['generate', run, 'The ', '--tokens', '10000'], 2500)
    assert.ok(stopped.exitMs >= 0 && stopped.exitMs < 3000, `exited ${stopped.exitMs} ms after SIGINT (code ${stopped.code}, signal ${stopped.signal}): ${stopped.stderr}`)
    assert.ok(stopped.code === 130 || stopped.signal === 'SIGINT', `code ${stopped.code}, signal ${stopped.signal}`)
    assert.doesNotMatch(stopped.stderr, NO_TRACE)
  })
})
