import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openBackend } from '@commons/engine'
import type { BenchResult } from '../../../bench/table.ts'
import { runNetworkDemo } from '../src/demo.ts'

/**
 * The network at work: the main job (commons demo, tiny transformer, 24 steps, four
 * nodes on loopback, a local chain), timed. For each job, the wall-clock time from
 * posting to its end (paid, or slashed after its dispute), and where the nodes spent
 * their time: training, verification (replaying steps), storage transfer (fetching
 * and exporting by CID) and chain (sending transactions, dispute moves included),
 * as shares of the honest job's time from posting to payment.
 */
export async function benchNetwork (log: (line: string) => void): Promise<BenchResult> {
  const home = await mkdtemp(join(tmpdir(), 'commons-bench-network-'))
  const backend = openBackend('auto', 2)
  try {
    log('network: running the demo (four nodes, two jobs, one dispute)')
    const summary = await runNetworkDemo({ home, engine: backend.ctx, log: line => { if (/^\[/.test(line)) log(`network: ${line}`) } })
    if (!summary.ok) throw new Error('the demo did not reach its expected outcome')
    const honest = summary.jobs.find(j => j.outcome === 'finalized')
    const total = summary.timing.jobs.find(j => j.id === honest?.id)?.seconds ?? NaN
    const nodes = Object.values(summary.timing.nodes)
    const kinds = ['training', 'verification', 'transfer', 'chain'] as const
    const seconds = Object.fromEntries(kinds.map(k => [k, nodes.reduce((sum, t) => sum + t[k], 0) / 1000]))
    const rows: Array<Array<string | number>> = summary.timing.jobs.map(j => {
      const job = summary.jobs.find(x => x.id === j.id)
      return [`job ${j.id} (${job?.fundedBy ?? ''}) posted -> ${job?.outcome ?? ''}`, j.seconds.toFixed(1), '']
    })
    for (const k of kinds) rows.push([`${k} (all nodes)`, (seconds[k]).toFixed(2), `${(seconds[k] / total * 100).toFixed(0)}%`])
    return {
      part: 'network',
      title: 'Network: from job posted to finalised (commons demo, 4 nodes on loopback, local chain)',
      columns: ['what', 'seconds', 'share of the honest job'],
      rows,
      notes: [
        'shares are summed over the nodes working in parallel (two trainers, a validator, the requester), against the honest job\'s wall time; the rest is waiting: polling the chain, governance steps of the demo, event delivery',
        'the challenge window passes by advancing the devnet clock, so it costs no wall time here'
      ],
      figures: { jobs: summary.timing.jobs, seconds, honestJobSeconds: total, shares: Object.fromEntries(kinds.map(k => [k, seconds[k] / total])) }
    }
  } finally {
    await backend.close()
    await rm(home, { recursive: true, force: true })
  }
}
