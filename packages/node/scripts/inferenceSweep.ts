// The inference fault sweep on a real anvil: lying providers (one element of one op from a
// random token on; another model or a quantised one under the registered root; another
// seed than the receipt's), each disputed by a client that replays the answer, and honest
// providers disputed anyway at a random token, op and element (greedy and sampled). Every
// lie must end slashed; no honest provider may be. See src/testing/inferenceSweep.ts.
//
//   node packages/node/scripts/inferenceSweep.ts [--lies 24] [--honest 12] [--seed 1] [--json]
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { inferenceSweep } from '../src/testing/inferenceSweep.ts'

const { values } = parseArgs({
  options: {
    lies: { type: 'string', default: '24' },
    honest: { type: 'string', default: '12' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (values.help) {
  console.log('Usage: node packages/node/scripts/inferenceSweep.ts [--lies N] [--honest N] [--seed S] [--json]')
  process.exit(0)
}

const home = await mkdtemp(join(tmpdir(), 'commons-inference-sweep-'))
const started = performance.now()
try {
  const outcomes = await inferenceSweep({ lies: Number(values.lies), honest: Number(values.honest), seed: Number(values.seed), home, log: line => { process.stderr.write(`${line}\n`) } })
  const lies = outcomes.filter(o => o.kind !== 'honest')
  const honest = outcomes.filter(o => o.kind === 'honest')
  const summary = {
    lies: lies.length,
    liesSlashed: lies.filter(o => o.slashed && o.winner === 'challenger').length,
    byKind: Object.fromEntries(['value', 'model', 'seed'].map(k => [k, lies.filter(o => o.kind === k).length])),
    honest: honest.length,
    honestSlashed: honest.filter(o => o.slashed || o.winner !== 'provider').length,
    maxGas: Math.max(...outcomes.map(o => o.maxGas)),
    seconds: Math.round((performance.now() - started) / 1000)
  }
  if (values.json) console.log(JSON.stringify({ summary, outcomes }, null, 2))
  else console.log(`${summary.liesSlashed} of ${summary.lies} lies slashed (${JSON.stringify(summary.byKind)}); ${summary.honestSlashed} of ${summary.honest} honest providers slashed; heaviest move ${summary.maxGas} gas; ${summary.seconds} s`)
  if (summary.liesSlashed !== summary.lies || summary.honestSlashed !== 0) process.exitCode = 1
} finally {
  await rm(home, { recursive: true, force: true })
}
