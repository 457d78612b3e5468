import { parseArgs } from 'node:util'
import { formatTable, type BenchResult } from './table.ts'
import { benchStore } from '../packages/store/bench/store.bench.ts'
import { benchIngest } from '../packages/store/bench/ingest.bench.ts'
import { benchChain } from '../packages/chain/bench/chain.bench.ts'
import { benchEngine } from '../packages/engine/bench/engine.bench.ts'
import { benchDispute } from '../packages/chain/bench/dispute.bench.ts'
import { benchNetwork } from '../packages/cli/bench/network.bench.ts'
import { benchTransfer } from '../packages/node/bench/transfer.bench.ts'
import { benchModels } from '../packages/models/bench/models.bench.ts'
import { benchStorage } from '../packages/chain/bench/storage.bench.ts'
import { benchAgent } from '../packages/agent/bench/agent.bench.ts'
import { benchInference } from '../packages/cli/bench/inference.bench.ts'

/** Every benchmark part, by name; a part may print more than one table. */
const PARTS: Record<string, (log: (line: string) => void) => Promise<BenchResult | BenchResult[]>> = {
  store: async log => [await benchStore(log), await benchIngest(log, { datasetGb: Number(values['dataset-gb']) })],
  chain: benchChain,
  engine: benchEngine,
  dispute: benchDispute,
  network: async log => [await benchTransfer(log), await benchNetwork(log)],
  transfer: benchTransfer,
  models: benchModels,
  storage: benchStorage,
  agent: benchAgent,
  inference: benchInference
}

const { values } = parseArgs({
  options: {
    part: { type: 'string' },
    'dataset-gb': { type: 'string', default: '0.2' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false }
  }
})

if (values.help) {
  console.log(`Usage: npm run bench -- [--part NAME] [--json]

Runs the benchmarks and prints, for each part, a table of ratios against a
reference measured in the same run.

  --part NAME  run one part: ${Object.keys(PARTS).join(', ')}
  --dataset-gb N  size of the generated dataset the store part ingests (default 0.2)
  --json       print the figures as JSON (for scripts); progress goes to stderr`)
  process.exit(0)
}

const names = values.part === undefined ? Object.keys(PARTS) : [values.part]
for (const name of names) {
  if (PARTS[name] === undefined) {
    console.error(`unknown benchmark part "${name}"; choose one of: ${Object.keys(PARTS).join(', ')}`)
    process.exit(2)
  }
}

const results: BenchResult[] = []
for (const name of names) {
  for (const result of [await PARTS[name]((line) => { process.stderr.write(`${line}\n`) })].flat()) {
    results.push(result)
    if (!values.json) console.log(`${formatTable(result)}\n`)
  }
}
if (values.json) {
  const figures = Object.fromEntries(results.map(r => [r.part, r.figures]))
  console.log(JSON.stringify(values.part === undefined || results.length > 1 ? figures : figures[values.part], null, 2))
}
