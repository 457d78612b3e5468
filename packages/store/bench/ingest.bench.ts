import { spawn, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BenchResult } from '../../../bench/table.ts'
import { generateRows, rowsToBytes } from '../src/corpus.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..', '..', '..')
const CLI = join(ROOT, 'packages', 'cli', 'src', 'main.ts')
const IPFS_CAR = join(ROOT, 'node_modules', 'ipfs-car', 'bin.js')
const PROBE = join(HERE, 'rssProbe.ts')
const TINY = join(ROOT, 'recipes', 'tiny.json')
const CORPUS_BYTES = 25_000_000
/** Shards of a generated dataset: a large dataset is many files, and each is generated alone. */
const SHARD_BYTES = 100_000_000

export interface IngestBenchOptions {
  /** Size of the generated dataset in GB (1e9 bytes); small by default so CI stays quick. */
  datasetGb?: number
}

interface Measured {
  seconds: number
  /** Peak resident set size of the process, bytes. */
  rss: number
  /** CPU seconds of the process, all threads (user + system). */
  cpu: number
}

/** Runs `node ARGS` with the RSS probe preloaded; wall-clock seconds (process start included) and peak RSS. */
async function measure (args: string[], env: Record<string, string> = {}): Promise<Measured> {
  // Dirty pages written back first: no tool pays for the write-back of the data generated
  // or of the tool before it (on this 2-core VM that cost a following 1 GB run a third of its speed).
  if (process.platform === 'linux') spawnSync('sync')
  const rssFile = join(tmpdir(), `commons-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`)
  const started = performance.now()
  const child = spawn(process.execPath, ['--import', PROBE, ...args], {
    env: { ...process.env, ...env, COMMONS_BENCH_RSS: rssFile },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  const seconds = (performance.now() - started) / 1000
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}: ${stderr}`)
  const { rss, cpu } = JSON.parse(await readFile(rssFile, 'utf8')) as { rss: number, cpu: number }
  await rm(rssFile, { force: true })
  return { seconds, rss, cpu }
}

/** Writes about `bytes` of generated JSONL rows as shards of SHARD_BYTES, one shard in memory at a time. */
async function writeDataset (dir: string, bytes: number): Promise<number> {
  await mkdir(dir, { recursive: true })
  let written = 0
  for (let shard = 0; written < bytes; shard++) {
    const data = rowsToBytes(generateRows(Math.min(SHARD_BYTES, bytes - written), 100 + shard))
    await writeFile(join(dir, `rows-${String(shard).padStart(5, '0')}.jsonl`), data)
    written += data.length
  }
  return written
}

/** The CID of the version the bench committed (`dataset log --json`: newest first). */
async function headOf (home: string): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'dataset', 'log', 'bench', '--json', '--home', home], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  await new Promise(resolve => child.on('close', resolve))
  const log = JSON.parse(out) as Array<{ cid: string }>
  return log[0].cid
}

interface Row { dataset: string, tool: string, bytes: number, measured: Measured }

/**
 * Ingest as users run it, each tool in its own process on the same files in one run:
 * `commons dataset commit` (the CLI, its on-disk store), the Helia importer with its
 * defaults into blockstore-fs, and `ipfs-car pack` to a CAR file; then `commons
 * dataset tokens` of the same version. MB/s and peak RSS per process.
 */
export async function benchIngest (log: (line: string) => void, options: IngestBenchOptions = {}): Promise<BenchResult> {
  const datasetGb = options.datasetGb ?? 0.2
  const work = await mkdtemp(join(tmpdir(), 'commons-bench-ingest-'))
  const rows: Row[] = []
  try {
    const corpus = join(work, 'corpus')
    await mkdir(corpus)
    const corpusBytes = rowsToBytes(generateRows(CORPUS_BYTES, 1))
    await writeFile(join(corpus, 'corpus.jsonl'), corpusBytes)
    log(`store: generating a ${datasetGb} GB dataset in ${SHARD_BYTES / 1e6} MB shards`)
    const generated = join(work, 'generated')
    const generatedBytes = await writeDataset(generated, datasetGb * 1e9)
    const recipe = join(work, 'one-step.json')
    await writeFile(recipe, JSON.stringify({ ...JSON.parse(await readFile(TINY, 'utf8')), steps: 1, checkpointInterval: 1 }))
    const datasets: Array<[string, string, number]> = [
      [`corpus ${(corpusBytes.length / 1e6).toFixed(0)} MB`, corpus, corpusBytes.length],
      [`generated ${(generatedBytes / 1e9).toFixed(2)} GB`, generated, generatedBytes]
    ]
    for (const [label, dir, bytes] of datasets) {
      const home = join(work, `home-${rows.length}`)
      const add = (tool: string, measured: Measured): void => {
        rows.push({ dataset: label, tool, bytes, measured })
        log(`store: ${label}: ${tool}: ${(bytes / 1e6 / measured.seconds).toFixed(0)} MB/s, ${measured.cpu.toFixed(1)} CPU s, peak RSS ${(measured.rss / 1e6).toFixed(0)} MB`)
      }
      await measure([CLI, 'dataset', 'init', 'bench', '--home', home])
      add('commons dataset commit', await measure([CLI, 'dataset', 'commit', 'bench', dir, '-m', 'bench', '--home', home], { SOURCE_DATE_EPOCH: '0' }))
      add('commons dataset tokens (count and root)', await measure([CLI, 'dataset', 'tokens', 'bench', '--home', home]))
      // Training start-up from nothing stored: the stream written to <home>/tokens (one
      // byte a token) with its root, then one step reading its windows.
      const version = await headOf(home)
      add('commons train start-up (tokenize + 1 step)', await measure([CLI, 'train', recipe, '--data', version, '--out', join(work, 'run'), '--home', home]))
      await rm(join(work, 'run'), { recursive: true, force: true })
      add('commons train start-up (stream stored, 1 step)', await measure([CLI, 'train', recipe, '--data', version, '--out', join(work, 'run'), '--home', home]))
      await rm(join(work, 'run'), { recursive: true, force: true })
      // Each tool's output is removed once measured, so the disk holds the data and one
      // store at a time: at 5 GB they would not all fit on a small disk.
      await rm(home, { recursive: true, force: true })
      const helia = join(work, 'helia')
      add('Helia importer -> blockstore-fs', await measure([join(HERE, 'heliaImport.ts'), dir, helia]))
      await rm(helia, { recursive: true, force: true })
      const car = join(work, 'pack.car')
      add('ipfs-car pack', await measure([IPFS_CAR, 'pack', dir, '--output', car]))
      await rm(car, { force: true })
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  const reference = (dataset: string): Measured | undefined => rows.find(r => r.dataset === dataset && r.tool === 'ipfs-car pack')?.measured
  return {
    part: 'store-ingest',
    title: 'Ingest through the CLI, next to the Helia importer and ipfs-car (each its own process, same files)',
    columns: ['dataset', 'tool', 'MB/s', 'vs ipfs-car', 'CPU s', 'CPU vs ipfs-car', 'peak RSS MB'],
    rows: rows.map(r => {
      const mbps = r.bytes / 1e6 / r.measured.seconds
      const ref = reference(r.dataset)
      return [r.dataset, r.tool, mbps.toFixed(0), ref === undefined ? '' : (ref.seconds / r.measured.seconds).toFixed(2), r.measured.cpu.toFixed(1), ref === undefined ? '' : (r.measured.cpu / ref.cpu).toFixed(2), (r.measured.rss / 1e6).toFixed(0)]
    }),
    notes: [
      'MB/s counts the dataset bytes over the whole process wall time, start-up included (what a user waits for); CPU s is the process\'s CPU time, all threads (the work done, less sensitive to a loaded machine); each tool starts after a sync, so none pays for writing back another\'s output',
      'tokens: the byte tokenizer; the tokens root is keccak over 4 bytes per token. --out adds a 4-bytes-per-token file write',
      'train start-up: a 1-step tiny recipe on the version, nothing stored before: tokenizes into <home>/tokens (1 byte a token), then trains one step from windows of it; then again with the stream stored',
      'goal: commit >= 200 MB/s, RSS <= 1 GB, tokenize + train start-up RSS <= 1 GB; size the generated dataset with --dataset-gb N'
    ],
    figures: { rows: rows.map(r => ({ dataset: r.dataset, tool: r.tool, bytes: r.bytes, seconds: r.measured.seconds, cpuSeconds: r.measured.cpu, mbps: r.bytes / 1e6 / r.measured.seconds, peakRss: r.measured.rss })) }
  }
}
