import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { advanceTime } from '@commons/chain'
import { generateRows, rowsToBytes } from '@commons/store'
import type { Command } from 'commander'
import { buildProgram } from './program.ts'
import { commons, errorName, REPO } from './testing.ts'

let root: string
let home: string
let source: string
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'commons-cli-'))
  home = join(root, 'home')
  source = join(root, 'src')
  await mkdir(source)
  await writeFile(join(source, 'rows.jsonl'), rowsToBytes(generateRows(200_000, 2)))
})
after(async () => { await rm(root, { recursive: true, force: true }) })

describe('commons CLI', () => {
  it('has --help on every command', async () => {
    // Every command of the whole program, found by walking it (a list kept by hand missed
    // new ones): its help names its path and says what it does. A command named alone
    // loads the same definition (program.test.ts), so the help a process prints is this.
    const paths: string[] = []
    const walk = (command: Command, path: string[]): void => {
      const help = command.helpInformation()
      assert.match(help, new RegExp(`^Usage: commons${path.map(p => ` ${p}`).join('')}( |\n)`), path.join(' '))
      if (path.length > 0) assert.notEqual(command.description(), '', `${path.join(' ')} says what it does`)
      paths.push(path.join(' '))
      for (const sub of command.commands) walk(sub, [...path, sub.name()])
    }
    walk(await buildProgram(), [])
    assert.ok(paths.length >= 70, `${paths.length} commands`)
    // And as a user runs it: a few commands in a process of their own.
    for (const command of [[], ['dataset', 'commit'], ['channel', 'claim'], ['agent']]) {
      assert.ok(paths.includes(command.join(' ')), command.join(' '))
      const run = await commons([...command, '--help'])
      assert.equal(run.code, 0, command.join(' '))
      assert.match(run.stdout, new RegExp(`^Usage: commons${command.map(p => ` ${p}`).join('')} `), command.join(' '))
    }
  })

  it('commits, logs, shows, stats, verifies and tokenizes with --json', async () => {
    const h = ['--home', home]
    assert.equal((await commons(['dataset', 'init', 'cli', ...h])).code, 0)
    const commit = await commons(['dataset', 'commit', 'cli', source, '-m', 'first', ...h])
    assert.equal(commit.code, 0, commit.stderr)
    const cid = commit.stdout.trim()
    assert.match(cid, /^bafyrei[a-z2-7]+$/, 'commit prints only the version CID on stdout')

    const log = JSON.parse((await commons(['dataset', 'log', 'cli', '--json', ...h])).stdout) as Array<{ cid: string, message: string }>
    assert.deepEqual(log.map(e => [e.cid, e.message]), [[cid, 'first']])
    const shown = JSON.parse((await commons(['dataset', 'show', cid, '--json', ...h])).stdout) as { files: Array<{ path: string }> }
    assert.deepEqual(shown.files.map(f => f.path), ['rows.jsonl'])
    const stat = JSON.parse((await commons(['dataset', 'stat', 'cli', '--json', ...h])).stdout) as Record<string, number>
    assert.equal(stat.versions, 1)
    assert.ok(stat.logicalBytes > 200_000 && stat.storedBytes > 0, JSON.stringify(stat))
    const verify = JSON.parse((await commons(['dataset', 'verify', 'cli', '--json', ...h])).stdout) as { ok: boolean }
    assert.equal(verify.ok, true)
    const out = join(root, 'tokens.i32')
    const tokens = JSON.parse((await commons(['dataset', 'tokens', cid, '--tokenizer', 'byte', '--out', out, '--json', ...h])).stdout) as { tokens: number }
    const raw = await readFile(out)
    assert.equal(raw.length, tokens.tokens * 4)
    assert.equal(raw.readInt32LE(0), (await readFile(join(source, 'rows.jsonl')))[0])
  })

  it('lands concurrent commits from separate processes', async () => {
    const h = ['--home', join(root, 'home-concurrent')]
    assert.equal((await commons(['dataset', 'init', 'shared', ...h])).code, 0)
    const dirs = await Promise.all([0, 1, 2, 3].map(async i => {
      const dir = join(root, `writer-${i}`)
      await mkdir(dir)
      await writeFile(join(dir, 'part.txt'), `written by process ${i}\n`)
      return dir
    }))
    const runs = await Promise.all(dirs.map((dir, i) => commons(['dataset', 'commit', 'shared', dir, '-m', `p${i}`, ...h])))
    for (const run of runs) assert.equal(run.code, 0, run.stderr)
    const log = JSON.parse((await commons(['dataset', 'log', 'shared', '--json', ...h])).stdout) as Array<{ cid: string, parents: string[] }>
    assert.equal(log.length, 4)
    assert.deepEqual(new Set(log.map(e => e.cid)), new Set(runs.map(r => r.stdout.trim())))
    assert.equal(log.filter(e => e.parents.length === 0).length, 1, 'one root, a linear chain')
  })

  it('answers bad input with a clear error, exit code 1 and nothing written', async () => {
    const h = ['--home', join(root, 'home-bad')]
    assert.equal((await commons(['dataset', 'init', 'bad', ...h])).code, 0)
    const before = await readdir(join(root, 'home-bad'), { recursive: true })
    const cases: Array<[string[], string]> = [
      [['dataset', 'commit', 'bad', join(root, 'missing'), '-m', 'x'], 'PathNotFoundError'],
      [['dataset', 'commit', 'nobody', source, '-m', 'x'], 'DatasetNotFoundError'],
      [['dataset', 'log', 'bad'], 'EmptyDatasetError'],
      [['dataset', 'show', 'bafy-broken'], 'InvalidCidError'],
      [['dataset', 'export', 'bad', join(root, 'export-bad')], 'EmptyDatasetError'],
      [['dataset', 'tokens', 'bad', '--tokenizer', 'nope'], 'UnknownTokenizerError'],
      [['dataset', 'init', 'bad/name'], 'InvalidDatasetNameError']
    ]
    for (const [args, name] of cases) {
      const human = await commons([...args, ...h])
      assert.equal(human.code, 1, `${args.join(' ')}: ${human.stderr}`)
      assert.match(human.stderr, /^error: .+\nhint: .+/m, args.join(' '))
      const json = await commons([...args, '--json', ...h])
      assert.equal(json.code, 1)
      assert.equal((JSON.parse(json.stderr) as { error: { name: string } }).error.name, name, args.join(' '))
    }
    const usage = await commons(['dataset', 'commit', 'bad', '--json', ...h])
    assert.equal(usage.code, 1)
    assert.equal(errorName(usage), 'UsageError')
    assert.deepEqual(await readdir(join(root, 'home-bad'), { recursive: true }), before)
  })

  it('runs the dataset tour and leaves its datasets in the home', async () => {
    const demoHome = join(root, 'home-demo')
    const run = await commons(['dataset', 'tour', '--corpus-mb', '0.5', '--json', '--home', demoHome])
    assert.equal(run.code, 0, run.stderr)
    const summary = JSON.parse(run.stdout) as { ok: boolean, dataset: { name: string, versions: unknown[] }, fork: { name: string }, exportIdentical: boolean, stats: { reachableBytes: number, logicalBytes: number } }
    assert.equal(summary.ok, true)
    assert.equal(summary.dataset.versions.length, 3)
    assert.equal(summary.exportIdentical, true)
    assert.ok(summary.stats.reachableBytes > 0 && summary.stats.reachableBytes < summary.stats.logicalBytes)
    const list = JSON.parse((await commons(['dataset', 'list', '--json', '--home', demoHome])).stdout) as Array<{ name: string }>
    assert.deepEqual(list.map(d => d.name), [summary.dataset.name, summary.fork.name])
  })
})

describe('the main job: commons demo', () => {
  it('runs the whole story in reduced form: the cheater is slashed, the honest trainer paid, the model verified', async () => {
    const demoHome = join(root, 'home-network')
    const run = await commons(['demo', '--steps', '6', '--layers', '1', '--json', '--home', demoHome])
    // A demo that ends ok: false exits 1 with its summary on stdout: show it.
    assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`)
    const s = JSON.parse(run.stdout) as {
      ok: boolean
      jobs: Array<{ id: string, fundedBy: string, cheater: boolean, outcome: string }>
      disputes: Array<{ job: string, winner: string, moves: number, maxGas: number }>
      model: { job: string, verified: boolean, sample: string }
      fork: { members: number }
    }
    assert.equal(s.ok, true)
    assert.deepEqual(s.jobs.map(j => j.fundedBy).sort(), ['dao', 'requester'])
    for (const job of s.jobs) assert.equal(job.outcome, job.cheater ? 'slashed' : 'finalized')
    assert.equal(s.jobs.filter(j => j.cheater).length, 1)
    assert.equal(s.disputes.length, 1)
    assert.equal(s.disputes[0].winner, 'challenger')
    assert.equal(s.disputes[0].job, s.jobs.find(j => j.cheater)?.id)
    assert.ok(s.disputes[0].moves <= 4 && s.disputes[0].maxGas <= 5_000_000)
    assert.equal(s.model.verified, true)
    assert.equal(s.model.job, s.jobs.find(j => !j.cheater)?.id)
    assert.equal(s.fork.members, 1)
    // The nodes' state stays in the home for commons to inspect.
    const status = await commons(['node', 'status', '--json', '--home', join(demoHome, 'demo', 'nodes', 'validator')])
    assert.equal(status.code, 0, status.stderr)
    const disputes = (JSON.parse(status.stdout) as { disputes: Array<{ role: string, status: string }> }).disputes
    assert.ok(disputes.some(d => d.role === 'challenger' && /challenger won/.test(d.status)))
  })

  it('answers bad node commands with a clear error and exit code 1', async () => {
    const h = ['--home', join(root, 'home-node-bad')]
    const cases: Array<[string[], string]> = [
      [['node', 'start'], 'ChainUnreachableError'],
      [['node', 'start', '--rpc', 'http://127.0.0.1:9'], 'NotDeployedError'],
      [['node', 'status'], 'UsageError']
    ]
    for (const [args, name] of cases) {
      const human = await commons([...args, ...h])
      assert.equal(human.code, 1, `${args.join(' ')}: ${human.stderr}`)
      assert.match(human.stderr, /^error: .+\nhint: .+/m, args.join(' '))
      const json = await commons([...args, '--json', ...h])
      assert.equal((JSON.parse(json.stderr) as { error: { name: string } }).error.name, name, args.join(' '))
    }
    const roles = await commons(['node', 'start', '--roles', 'miner', '--json', ...h])
    assert.equal(roles.code, 1)
    assert.equal(errorName(roles), 'UsageError')
  })

  it('refuses a malformed --fault with a clear error', async () => {
    const run = await commons(['demo', '--fault', 'step=x', '--json', '--home', join(root, 'home-bad-fault')])
    assert.equal(run.code, 1)
    assert.equal(errorName(run), 'FaultSpecError')
  })
})

describe('commons chain and dao', () => {
  it('runs a devnet, deploys, and governs a dataset DAO from the command line', async () => {
    const home = join(root, 'home-chain')
    const h = ['--home', home]
    const up = await commons(['chain', 'up', '--detach', '--json', ...h])
    assert.equal(up.code, 0, up.stderr)
    const devnet = JSON.parse(up.stdout) as { rpcUrl: string, port: number }
    try {
      // Another home asking for the same port is refused, and records no devnet: before,
      // it reported success and then deployed into this home's chain.
      const other = join(root, 'home-other')
      const taken = await commons(['chain', 'up', '--port', String(devnet.port), '--detach', '--json', '--home', other])
      assert.equal(taken.code, 1, taken.stderr)
      assert.equal(errorName(taken), 'DevnetError')
      await assert.rejects(stat(join(other, 'chain', 'devnet.json')), { code: 'ENOENT' })

      assert.equal((await commons(['chain', 'deploy', ...h])).code, 0)
      const manifest = join(home, 'chain', 'deployment.json')
      const first = await readFile(manifest, 'utf8')
      const again = await commons(['chain', 'deploy', '--json', ...h])
      assert.equal(again.code, 1)
      assert.equal(errorName(again), 'AlreadyDeployedError')
      assert.equal(await readFile(manifest, 'utf8'), first, 'the manifest is untouched')
      const forced = await commons(['chain', 'deploy', '--force', ...h])
      assert.equal(forced.code, 0, forced.stderr)
      assert.notEqual((JSON.parse(await readFile(manifest, 'utf8')) as { contracts: { token: string } }).contracts.token, (JSON.parse(first) as { contracts: { token: string } }).contracts.token)

      const status = JSON.parse((await commons(['chain', 'status', '--json', ...h])).stdout) as { chainId: number, problem: string | null }
      assert.deepEqual([status.chainId, status.problem], [31337, null])
      await commons(['dataset', 'init', 'gov', ...h])
      const v1 = (await commons(['dataset', 'commit', 'gov', source, '-m', 'one', ...h])).stdout.trim()
      const created = await commons(['dao', 'create', 'gov', '--head', 'gov', '--json', ...h])
      assert.equal(created.code, 0, created.stderr)
      await writeFile(join(source, 'more.txt'), 'more\n')
      const v2 = (await commons(['dataset', 'commit', 'gov', source, '-m', 'two', ...h])).stdout.trim()
      const proposal = await commons(['dao', 'propose', 'gov', '--set-head', v2, '-m', 'v2 is canonical', ...h])
      assert.equal(proposal.code, 0, proposal.stderr)
      const id = proposal.stdout.trim()
      // Past the voting delay on chain time (no sleeping on the wall clock).
      await advanceTime(devnet.rpcUrl, 2)
      assert.equal((await commons(['dao', 'vote', 'gov', id, 'for', ...h])).code, 0)

      const early = await commons(['dao', 'execute', 'gov', id, '--json', ...h])
      assert.equal(early.code, 1)
      assert.equal(errorName(early), 'InvalidChainInputError')
      const twice = await commons(['dao', 'vote', 'gov', id, 'for', '--json', ...h])
      assert.equal(twice.code, 1)
      assert.equal((JSON.parse(twice.stderr) as { error: { details: { error: string } } }).error.details.error, 'AlreadyVoted')

      const shown = JSON.parse((await commons(['dao', 'show', 'gov', '--json', ...h])).stdout) as { head: string, proposals: Array<{ state: string, forVotes: number }> }
      assert.equal(shown.head, v1)
      assert.deepEqual(shown.proposals.map(p => [p.state, p.forVotes]), [['active', 100]])

      // The vote ends; executing before the timelock is refused with a date, not raw values.
      await advanceTime(devnet.rpcUrl, 120)
      const locked = await commons(['dao', 'execute', 'gov', id, '--json', ...h])
      assert.equal(locked.code, 1)
      const lockedError = (JSON.parse(locked.stderr) as { error: { name: string, message: string, details: { error: string, args: string[] } } }).error
      assert.deepEqual([lockedError.name, lockedError.details.error], ['ContractRevertError', 'TimelockNotPassed'])
      assert.ok(lockedError.message.includes(new Date(Number(lockedError.details.args[1]) * 1000).toISOString().replace('.000Z', 'Z')), lockedError.message)
      const executed = await commons(['dao', 'execute', 'gov', id, '--wait', ...h])
      assert.equal(executed.code, 0, executed.stderr)
      assert.equal((JSON.parse((await commons(['dao', 'show', 'gov', '--json', ...h])).stdout) as { head: string }).head, v2)

      // The treasury takes deposits; amounts print exactly, in wei, as JSON numbers.
      const deposit = await commons(['dao', 'deposit', 'gov', '123.000000000000000001', '--json', ...h])
      assert.equal(deposit.code, 0, deposit.stderr)
      assert.match(deposit.stdout, /"treasury": 123000000000000000001\b/)

      // A new key gets ETH and tokens on the devnet.
      const fresh = '0x000000000000000000000000000000000000c0de'
      const funded = await commons(['chain', 'fund', fresh, '--eth', '2', '--tokens', '75', '--json', ...h])
      assert.equal(funded.code, 0, funded.stderr)
      assert.match(funded.stdout, /"tokens": 75000000000000000000\b/)
      assert.match(funded.stdout, /"eth": 2000000000000000000\b/)

      // A job's terms, posted from the command line, listed and shown.
      const recipe = join(REPO, 'recipes/tiny.json')
      const spec = await commons(['job', 'spec', '--dataset', v2, '--recipe', recipe, '--reward', '10', '--stake', '5', ...h])
      assert.equal(spec.code, 0, spec.stderr)
      const terms = JSON.parse(spec.stdout) as { datasetCid: string, tokensRoot: string, programHash: string, recipeCid: string, reward: string, steps: number }
      assert.match(terms.programHash, /^0x[0-9a-f]{64}$/)
      assert.equal(terms.reward, '10')
      // A dataset name means its head: the job binds that version's CID.
      const byName = JSON.parse((await commons(['job', 'spec', '--dataset', 'gov', '--recipe', recipe, '--reward', '10', '--stake', '5', ...h])).stdout) as { datasetCid: string, tokensRoot: string }
      assert.deepEqual([byName.datasetCid, byName.tokensRoot], [v2, terms.tokensRoot])
      const noFile = await commons(['dao', 'propose', 'gov', '--fund-job', join(root, 'no-such-job.json'), '-m', 'x', '--json', ...h])
      assert.equal(noFile.code, 1)
      assert.equal(errorName(noFile), 'FileAccessError')
      const notJson = join(root, 'not-a-job.json')
      await writeFile(notJson, '{ "datasetCid": ')
      const badSpec = await commons(['dao', 'propose', 'gov', '--fund-job', notJson, '-m', 'x', '--json', ...h])
      assert.equal(badSpec.code, 1)
      assert.equal(errorName(badSpec), 'InvalidChainInputError')
      const sameName = await commons(['dao', 'create', 'gov', '--head', 'gov', '--json', ...h])
      assert.equal(sameName.code, 1, 'a second DAO of the same name is refused')
      assert.equal(errorName(sameName), 'InvalidChainInputError')
      const posted = await commons(['job', 'post', '--dataset', v2, '--recipe', recipe, '--reward', '10', '--stake', '5', '--json', ...h])
      assert.equal(posted.code, 0, posted.stderr)
      const jobId = (JSON.parse(posted.stdout) as { jobId: number }).jobId
      const listed = JSON.parse((await commons(['job', 'list', '--json', ...h])).stdout) as Array<{ id: number, status: string }>
      assert.deepEqual(listed.map(j => [j.id, j.status]), [[jobId, 'open']])
      const job = JSON.parse((await commons(['job', 'show', String(jobId), '--json', ...h])).stdout) as { programHash: string, tokensRoot: string, disputes: unknown[] }
      assert.deepEqual([job.programHash, job.tokensRoot, job.disputes], [terms.programHash, terms.tokensRoot, []])
      const badJob = await commons(['job', 'show', '99', '--json', ...h])
      assert.equal((JSON.parse(badJob.stderr) as { error: { details: { error: string } } }).error.details.error, 'UnknownJob')
      const badAmount = await commons(['job', 'post', '--dataset', v2, '--recipe', recipe, '--reward', 'lots', '--stake', '5', '--json', ...h])
      assert.equal(badAmount.code, 1)
      assert.equal(errorName(badAmount), 'UsageError')
      const badCid = await commons(['job', 'post', '--dataset', 'bafy-broken', '--recipe', recipe, '--reward', '10', '--stake', '5', '--json', ...h])
      assert.equal(badCid.code, 1)
      assert.equal(errorName(badCid), 'InvalidCidError')
      // Development account 9 holds no tokens: the escrow is refused by the token, by name,
      // with the amounts in tokens (not wei) in the sentence and exact in the details.
      const poor = await commons(['job', 'post', '--dataset', v2, '--recipe', recipe, '--reward', '10', '--stake', '5', '--account', '9', '--json', ...h])
      assert.equal(poor.code, 1)
      const poorError = (JSON.parse(poor.stderr) as { error: { message: string, details: { error: string, args: string[] } } }).error
      assert.equal(poorError.details.error, 'ERC20InsufficientBalance')
      assert.deepEqual(poorError.details.args.slice(1), ['0', '10000000000000000000'])
      assert.ok(!poorError.message.includes('10000000000000000000'), poorError.message)
      assert.deepEqual((JSON.parse((await commons(['job', 'list', '--json', ...h])).stdout) as unknown[]).length, 1, 'nothing posted')
    } finally {
      assert.equal((await commons(['chain', 'down', ...h])).code, 0)
    }
    const down = await commons(['chain', 'status', '--json', ...h])
    assert.equal(down.code, 1)
    assert.equal(errorName(down), 'ChainUnreachableError')
    const unreachable = await commons(['dao', 'list', '--rpc', 'http://127.0.0.1:9', '--json', ...h])
    assert.equal(errorName(unreachable), 'ChainUnreachableError')
  })
})

describe('commons train, replay and generate', () => {
  it('trains from a dataset version, replays and generates; refuses bad input', async () => {
    const h = ['--home', join(root, 'home-train')]
    const tiny = JSON.parse(await readFile(join(REPO, 'recipes/tiny.json'), 'utf8')) as Record<string, unknown>
    const recipe = join(root, 'quick.json')
    await writeFile(recipe, JSON.stringify({ ...tiny, steps: 6, checkpointInterval: 3 }))
    await commons(['dataset', 'init', 'text', ...h])
    const cid = (await commons(['dataset', 'commit', 'text', join(REPO, 'packages/engine/fixtures/corpus.txt'), '-m', 'corpus', ...h])).stdout.trim()

    const out = join(root, 'run')
    const trained = await commons(['train', recipe, '--data', cid, '--out', out, '--json', ...h])
    assert.equal(trained.code, 0, trained.stderr)
    const result = JSON.parse(trained.stdout) as { finalRoot: string, transcriptRoot: string, steps: number, losses: number[] }
    assert.equal(result.steps, 6)
    assert.equal(result.losses.length, 7)
    assert.match(result.finalRoot, /^0x[0-9a-f]{64}$/)
    const fromPath = JSON.parse((await commons(['train', recipe, '--data', join(REPO, 'packages/engine/fixtures/corpus.txt'), '--out', join(root, 'run2'), '--backend', 'reference', '--json', ...h])).stdout) as { finalRoot: string }
    assert.equal(fromPath.finalRoot, result.finalRoot, 'the same bytes from a path or a CID, on either backend')

    const replayed = JSON.parse((await commons(['replay', out, '--from', '2', '--json', ...h])).stdout) as { firstMismatch: unknown, checked: number }
    assert.deepEqual([replayed.firstMismatch, replayed.checked], [null, 5])
    const generated = JSON.parse((await commons(['generate', out, 'The ', '--tokens', '12', '--json'])).stdout) as { text: string, tokens: number[], tokensPerSecond: number }
    assert.equal(generated.tokens.length, 12)
    assert.ok(generated.tokensPerSecond > 0)
    const streamed = await commons(['generate', out, 'The ', '--tokens', '12'])
    assert.equal(streamed.stdout, `The ${generated.text}\n`, 'people see the prompt and the text streamed after it')
    const recomputed = JSON.parse((await commons(['generate', out, 'The ', '--tokens', '12', '--recompute', '--json'])).stdout) as { tokens: number[] }
    assert.deepEqual(recomputed.tokens, generated.tokens)

    const traced = JSON.parse((await commons(['trace', out, '--step', '4', '--json', ...h])).stdout) as { ops: number, roots: Array<{ root: string }>, programHash: string }
    assert.ok(traced.ops > 100)
    assert.equal(traced.roots.length, traced.ops)
    const element = JSON.parse((await commons(['trace', out, '--step', '4', '--op', '20', '--element', '3', '--json', ...h])).stdout) as { value: string, recomputed: string, inputs: Array<{ proof: unknown }> }
    assert.equal(element.value, element.recomputed)
    assert.ok(element.inputs.length > 0 && element.inputs.every(i => i.proof !== null))

    const cases: Array<[string[], string]> = [
      [['train', join(root, 'nope.json'), '--data', cid, '--out', join(root, 'x')], 'InvalidRecipeError'],
      [['train', recipe, '--data', join(root, 'missing'), '--out', join(root, 'x')], 'PathNotFoundError'],
      [['train', recipe, '--data', cid, '--out', out], 'RunDirError'],
      [['train', recipe, '--data', cid, '--out', join(root, 'x'), '--backend', 'gpu'], 'UnknownBackendError'],
      [['replay', join(root, 'x')], 'RunDirError'],
      [['generate', join(root, 'x'), 'hi'], 'RunDirError'],
      [['trace', out, '--step', '99'], 'RunDirError']
    ]
    for (const [args, name] of cases) {
      const run = await commons([...args, '--json', ...h])
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`)
      assert.equal((JSON.parse(run.stderr) as { error: { name: string } }).error.name, name, args.join(' '))
    }
    await assert.rejects(readFile(join(root, 'x', 'run.json')), { code: 'ENOENT' })
  })
})
