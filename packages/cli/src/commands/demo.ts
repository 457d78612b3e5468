import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import {
  commitVersion, defaultHome, diffVersions, editRows, exportVersion, findDataset, forkDataset, generateRows,
  initDataset, logDataset, openStore, rowsToBytes, statDataset, tokenizeVersion, verifyVersion, type Store
} from '@commons/store'
import type { DemoSummary } from '../demo/runNetworkDemo.ts'
import { briefResult, emit, formatBytes, note, UsageError, type GlobalOptions } from '../output.ts'
import { numberOption, wholeOption } from '../optionParsers.ts'

interface DemoOptions {
  corpusMb: number
}

/**
 * The dataset tour (`commons dataset tour`): a community dataset is created, evolves
 * over three versions, is forked, measured, verified, exported and tokenized, all in
 * the home so `commons dataset ...` can inspect it.
 */
export async function runDemo (store: Store, options: GlobalOptions & DemoOptions): Promise<Record<string, unknown>> {
  const say = (line: string): void => { note(options, line) }
  const work = await mkdtemp(join(tmpdir(), 'commons-demo-'))
  try {
    const name = await freeName(store, 'community-corpus')
    const forkName = await freeName(store, `${name}-fork`)
    say(`[1/7] creating dataset "${name}" in ${store.home}`)
    await initDataset(store, name)

    const source = join(work, 'corpus')
    let rows = generateRows(options.corpusMb * 1e6, 7)
    const write = async (): Promise<void> => {
      await writeFile(join(source, 'corpus.jsonl'), rowsToBytes(rows))
    }
    await mkdir(source, { recursive: true })
    await writeFile(join(source, 'README.md'), '# Community corpus\n\nShort texts gathered by the community, one JSON object per row.\n')
    await write()

    say(`[2/7] committing three versions of a ${formatBytes(rowsToBytes(rows).length)} JSONL corpus`)
    const versions = []
    versions.push(await commitVersion(store, { name, path: source, message: 'first import' }))
    for (const [seed, message] of [[11, 'fix typos, add new rows'], [12, 'second round of contributions']] as const) {
      rows = editRows(rows, seed)
      await write()
      versions.push(await commitVersion(store, { name, path: source, message }))
    }
    for (const v of versions) say(`      ${v.cid}  ${v.version.message}`)

    say('[3/7] what changed from the first to the last version')
    const diff = await diffVersions(store, versions[0].cid.toString(), versions[2].cid.toString(), 0)
    for (const f of diff.files) say(`      ${f.path}: +${f.added} -${f.removed} ${f.kind}`)

    say(`[4/7] a minority forks at version 2 as "${forkName}" and goes its own way`)
    await forkDataset(store, name, forkName, versions[1].cid.toString())
    await exportVersion(store, versions[1].cid.toString(), join(work, 'fork-source'))
    await writeFile(join(work, 'fork-source', 'LICENSE'), 'CC-BY-4.0\n')
    const forked = await commitVersion(store, { name: forkName, path: join(work, 'fork-source'), message: 'relicense the fork' })
    say(`      ${forked.cid}  ${forked.version.message}`)

    say('[5/7] storage: every version in full versus what is stored')
    const stats = await statDataset(store, name)
    say(`      ${stats.versions} versions, ${formatBytes(stats.logicalBytes)} logical, ${formatBytes(stats.reachableBytes)} stored (${(stats.reachableBytes / stats.logicalBytes * 100).toFixed(0)}%)`)

    say('[6/7] verifying every block and exporting the head byte for byte')
    const verified = await verifyVersion(store, name)
    const exported = await exportVersion(store, name, join(work, 'export'))
    const roundTrip = Buffer.compare(await readFile(join(exported.dir, 'corpus.jsonl')), rowsToBytes(rows)) === 0
    say(`      ${verified.blocks} blocks ok: ${verified.ok}; export identical: ${roundTrip}`)

    say('[7/7] tokenizing the head for training (byte tokenizer)')
    const tokens = await tokenizeVersion(store, name, 'byte')
    say(`      ${tokens.tokens.length} tokens`)

    const log = await logDataset(store, name)
    return {
      ok: verified.ok && roundTrip,
      home: store.home,
      dataset: { name, versions: log.map(e => ({ cid: e.cid, message: e.version.message })) },
      fork: { name: forkName, at: versions[1].cid, head: forked.cid },
      diff: diff.files.map(f => ({ path: f.path, status: f.status, added: f.added, removed: f.removed })),
      stats,
      verify: { ok: verified.ok, blocks: verified.blocks },
      exportIdentical: roundTrip,
      tokens: tokens.tokens.length
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/** `base`, or `base-2`, `base-3`... so running the demo twice keeps the first run. */
async function freeName (store: Store, base: string): Promise<string> {
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}-${i}`
    if (await findDataset(store, name) === null) return name
  }
}

export function demoCommand (program: Command): void {
  const dataset = program.commands.find(c => c.name() === 'dataset')
  dataset?.command('tour')
    .description('walk through datasets on local storage: a corpus evolves, forks, is verified and tokenized')
    .option('--corpus-mb <n>', 'size of the generated corpus in MB', numberOption('--corpus-mb', { above: 0, max: 1000 }), 4)
    .option('--json', 'print the summary as JSON')
    .action(async (opts: DemoOptions, command: Command) => {
      const options = { ...command.optsWithGlobals<GlobalOptions>(), ...opts }
      const store = await openStore(resolve(options.home ?? defaultHome()))
      try {
        const summary = await runDemo(store, options)
        emit(options, summary, () => `\ndone: the datasets stay in ${store.home}; try\n  npm run commons -- dataset log ${(summary.dataset as { name: string }).name} --home ${store.home}`)
        if (summary.ok !== true) process.exitCode = 1
      } finally {
        await store.close()
      }
    })

  program.command('demo')
    .description('the whole story on a local chain with nodes on loopback: a dataset and its DAO, a fork, two funded jobs, a cheating trainer caught and slashed, a verified model')
    .option('--fault <spec>', 'the cheating trainer\'s fault: step=T,op=I,element=E (parts optional, drawn from --seed) or init', 'step')
    .option('--seed <n>', 'seed that draws the parts of --fault left out', wholeOption('--seed', { min: 1 }), 1)
    .option('--steps <n>', 'training steps of the tiny transformer', wholeOption('--steps', { min: 1 }), 60)
    .option('--layers <n>', 'transformer layers', wholeOption('--layers', { min: 1 }), 2)
    .option('--backend <name>', 'compute backend: auto, native, wasm, reference', 'auto')
    .option('--no-storage', 'leave out the storage act (the DAO pays storer nodes to keep its version, proven on-chain; about 15 s)')
    .option('--no-inference', 'skip the inference act (providers paid per call, a lying one disputed and slashed, validators scoring an epoch)')
    .option('--no-agent', 'skip the agent act: the user\'s agent answering with its tools and asking another node\'s agent')
    .option('--agent-model <file>', 'the agent act\'s GGUF model (default: packages/agent/model/agent.gguf)')
    .option('--rpc <url>', 'run on this devnet (anvil, hardhat node) with its development accounts instead of starting anvil')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { fault: string, seed: number, steps: number, layers: number, backend: string, storage: boolean, inference: boolean, agent: boolean, agentModel?: string, rpc?: string }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>()
      const home = resolve(options.home ?? defaultHome())
      // Loaded here, not at the top: libp2p and Helia take a while to load for other commands.
      const { parseFault } = await import('@commons/node')
      const { runNetworkDemo } = await import('../demo/runNetworkDemo.ts')
      const { openBackend } = await import('@commons/engine')
      const fault = parseFault(opts.fault, opts.seed)
      // A fault past the last step never fires: the demo would wait for a dispute in vain.
      if (fault.kind === 'step' && fault.step !== undefined && fault.step >= opts.steps) {
        throw new UsageError(`--fault step=${fault.step} is past the last step of the run (${opts.steps - 1})`, { hint: `choose a step from 0 to ${opts.steps - 1}, or raise --steps`, details: { step: fault.step, steps: opts.steps } })
      }
      const backend = openBackend(opts.backend, 2)
      try {
        const started = Date.now()
        const summary = await runNetworkDemo({ home, engine: backend.ctx, rpcUrl: opts.rpc, fault: opts.fault, seed: opts.seed, steps: opts.steps, layers: opts.layers, storage: opts.storage, inference: opts.inference, agent: opts.agent, agentModel: opts.agentModel, log: line => { note(options, line) } })
        emit(options, summary, () => humanSummary(summary, (Date.now() - started) / 1000))
        if (!summary.ok) process.exitCode = 1
      } finally {
        await backend.close()
      }
    })
}


function humanSummary (s: DemoSummary, seconds: number): string {
  const lines = [
    '',
    `${s.ok ? 'done' : 'FAILED'} in ${seconds.toFixed(0)} s`,
    `dataset  ${s.datasets[0].name}: ${s.datasets[0].versions.length} versions, canonical ${s.dao.head}`,
    `DAO      ${s.dao.address}: ${s.dao.members} members, treasury ${s.dao.treasury}`,
    `fork     ${s.fork.address} at ${s.fork.forkPoint}: ${s.fork.members} member, treasury ${s.fork.treasury}`,
    ...s.jobs.map(j => `job ${j.id}    funded by ${j.fundedBy}, trainer ${j.trainer}${j.cheater ? ' (cheats)' : ''}: ${j.outcome}`),
    ...s.disputes.map(d => `dispute ${d.id} over job ${d.job} step ${d.step}: ${d.winner} won (${d.reason}) in ${d.moves} moves, max ${d.maxGas} gas`),
    `model    ${s.model.cid} verified: ${s.model.verified}`,
    ...(s.storage === undefined ? [] : [`storage  ${s.storage.deals} deal, ${s.storage.proofs} proofs (${s.storage.gasPerProof} gas each), ${s.storage.missed} missed, ${s.storage.slashed} COM slashed`]),
    ...(s.inference === undefined ? [] : [`infer    ${s.inference.requests} paid requests, ${s.inference.tokens} tokens, ${s.inference.paid} COM; ${s.inference.disputes.map(d => `a lie disputed: ${d.winner} won in ${d.moves} moves`).join(', ')}; epoch payouts ${JSON.stringify(s.inference.epoch.payouts)}`]),
    `sample   ${JSON.stringify(s.model.prompt + s.model.sample)}`,
    ...(s.agent?.questions ?? []).map(q => `agent    ${JSON.stringify(q.question)}: ${q.toolCalls.map(c => `${c.name} -> ${briefResult(c, 220)}`).join(', ') || 'no tool'}`),
    'balances ' + s.balances.map(b => `${b.who} ${b.before} -> ${b.after}`).join('; '),
    '',
    `state stays in ${s.home}: commons chain up --detach --home ${s.home}, then commons dao list, commons node status --home ${s.home}/nodes/validator`
  ]
  return lines.join('\n')
}
