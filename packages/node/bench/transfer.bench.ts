import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { createServer, connect, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { commitVersion, initDataset, openStore } from '@commons/store'
import type { BenchResult } from '../../../bench/table.ts'
import { MemoryBlockstore } from 'blockstore-core'
import { startNetwork } from '../src/network.ts'
import { receiveBareBytes } from './bareStream.ts'

/** Size of the run moved, in MB; `COMMONS_BENCH_TRANSFER_MB` overrides (the goal is stated for 100). */
const DEFAULT_MB = 100
/** Rounds of raw TCP, bare stream and whole-DAG fetch, interleaved; `COMMONS_BENCH_TRANSFER_ROUNDS` overrides. */
const DEFAULT_ROUNDS = 3
/** A run directory's shape: a few checkpoints of weights and optimizer state. */
const FILES = 4

/**
 * A run of `mb` MB (random bytes in a few files, as a run's checkpoints are) committed
 * on node A (its own process) and fetched by CID by a node B, both on loopback with
 * their blockstores on disk: as Commons nodes do it (the whole DAG in one stream) and,
 * once, over bitswap alone (what any IPFS node does). The references, measured in the
 * same rounds: the same files copied over one raw loopback TCP socket from disk to
 * disk, and the same number of bytes over a bare libp2p stream between the same two
 * nodes (noise, yamux; no DAG, no hashing, no store), the ceiling for anything on libp2p.
 * Each round measures all three in turn, so a ratio compares figures taken moments apart
 * on a machine whose load swings.
 */
export async function benchTransfer (
  log: (line: string) => void,
  mb = Number(process.env.COMMONS_BENCH_TRANSFER_MB ?? DEFAULT_MB),
  rounds = Number(process.env.COMMONS_BENCH_TRANSFER_ROUNDS ?? DEFAULT_ROUNDS)
): Promise<BenchResult> {
  const root = await mkdtemp(join(tmpdir(), 'commons-bench-transfer-'))
  try {
    const data = join(root, 'run')
    await mkdir(data)
    const paths: string[] = []
    for (let i = 0; i < FILES; i++) {
      const path = join(data, `checkpoint-${i}.bin`)
      await writeFile(path, randomBytes(Math.round(mb * 1e6 / FILES)))
      paths.push(path)
    }
    const bytes = Math.round(mb * 1e6 / FILES) * FILES

    const storeA = await openStore(join(root, 'a'))
    await initDataset(storeA, 'run')
    const { cid } = await commitVersion(storeA, { name: 'run', path: data, message: 'run', author: 'bench', time: 0 })
    await storeA.close()
    const a = await servePeer(join(root, 'a'))
    const seconds = { tcp: [] as number[], bare: [] as number[], stream: [] as number[], bitswap: [] as number[] }
    /** CPU seconds of both ends (this process and A's) for each move. */
    const cpu = { tcp: [] as number[], bare: [] as number[], stream: [] as number[], bitswap: [] as number[] }
    /** The same, each end on its own: B (this process, receiving) and A (sending). */
    const cpuFetcher = { tcp: [] as number[], bare: [] as number[], stream: [] as number[], bitswap: [] as number[] }
    const cpuHolder = { tcp: [] as number[], bare: [] as number[], stream: [] as number[], bitswap: [] as number[] }
    const timed = async (how: keyof typeof seconds, move: () => Promise<unknown>): Promise<void> => {
      const own = ownCpuSeconds()
      const holder = await a.cpuSeconds()
      const started = performance.now()
      await move()
      seconds[how].push((performance.now() - started) / 1000)
      const fetcher = ownCpuSeconds() - own
      const sender = await a.cpuSeconds() - holder
      cpuFetcher[how].push(fetcher)
      cpuHolder[how].push(sender)
      cpu[how].push(fetcher + sender)
    }
    let blocks = 0
    /** A fresh node B (its own empty store) fetches the run from A; the fetch alone is timed. */
    const fetchOnce = async (name: string, how: 'stream' | 'bitswap'): Promise<void> => {
      const storeB = await openStore(join(root, name))
      const b = await startNetwork({ blockstore: storeB.blocks, dagStream: how === 'stream' })
      try {
        await b.connect(a.address)
        await timed(how, async () => { blocks = (await b.fetchDag(cid, { timeoutMs: 30_000 })).blocks })
      } finally {
        await b.stop()
        await storeB.close()
        await rm(join(root, name), { recursive: true, force: true })
      }
    }
    try {
      const b = await startNetwork({ blockstore: new MemoryBlockstore() })
      try {
        await b.connect(a.address)
        for (let round = 1; round <= rounds; round++) {
          log(`transfer: round ${round}/${rounds}: raw TCP copy, bare libp2p stream, whole-DAG fetch of ${mb} MB`)
          await timed('tcp', async () => rawTcpCopy(paths, join(root, 'tcp-copy.bin')))
          await timed('bare', async () => receiveBareBytes(b, a.address, bytes))
          await fetchOnce(`b-stream-${round}`, 'stream')
        }
      } finally {
        await b.stop()
      }
      log(`transfer: B fetches the ${mb} MB run from A over bitswap only`)
      await fetchOnce('b-bitswap', 'bitswap')
    } finally {
      await a.stop()
    }
    const rate = (s: number): number => bytes / 1e6 / s
    const rates = Object.fromEntries(Object.entries(seconds).map(([how, list]) => [how, list.map(rate)])) as Record<keyof typeof seconds, number[]>
    // Ratios round by round (each against the reference measured moments before it).
    const vs = (how: keyof typeof seconds, reference: 'tcp' | 'bare'): number[] => rates[how].map((r, i) => r / rates[reference][Math.min(i, rates[reference].length - 1)])
    const row = (label: string, how: keyof typeof seconds): string[] => [
      label, median(seconds[how]).toFixed(2), range(rates[how], 0), range(vs(how, 'tcp'), 2), range(vs(how, 'bare'), 2), range(cpu[how], 2),
      `${median(cpuFetcher[how]).toFixed(2)} / ${median(cpuHolder[how]).toFixed(2)}`
    ]
    return {
      part: 'transfer',
      title: `Transfer: a ${mb} MB run between two nodes on loopback, next to raw TCP and a bare libp2p stream`,
      columns: ['how', 'seconds', 'MB/s', 'vs raw TCP', 'vs bare libp2p stream', 'CPU s, both ends', 'CPU s, receiver / sender'],
      rows: [
        row('raw TCP socket, file to file', 'tcp'),
        row('bare libp2p stream (noise + yamux), bytes only', 'bare'),
        row(`bitswap only, block by block (${blocks} blocks)`, 'bitswap'),
        row('fetchDag: whole-DAG stream (Commons to Commons)', 'stream')
      ],
      notes: [
        `${rounds} rounds of raw TCP, bare stream and whole-DAG fetch in turn (bitswap once, after them); seconds and MB/s are medians, ratios are taken round by round and shown as median (min-max)`,
        'CPU s: user + system CPU seconds of both processes while the move ran (on a loaded machine wall time swings with other jobs, CPU time much less; two ends running in parallel can move data in less wall time than their sum); receiver / sender: medians of each end alone (B fetching, A serving)',
        'raw TCP and both fetches read from and write to disk on the same machine; both fetches check every block against its CID and store it in B\'s blockstore; the bare stream only counts bytes',
        `size by COMMONS_BENCH_TRANSFER_MB (default ${DEFAULT_MB}), rounds by COMMONS_BENCH_TRANSFER_ROUNDS (default ${DEFAULT_ROUNDS})`
      ],
      figures: {
        mb,
        rounds,
        blocks,
        tcpMBps: median(rates.tcp),
        bareMBps: median(rates.bare),
        bitswapMBps: median(rates.bitswap),
        streamMBps: median(rates.stream),
        streamVsTcp: median(vs('stream', 'tcp')),
        streamVsBare: median(vs('stream', 'bare')),
        MBps: rates,
        cpuSeconds: cpu,
        cpuFetcherSeconds: cpuFetcher,
        cpuHolderSeconds: cpuHolder,
        seconds
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

function median (values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** "median (min-max)", or the one value when there is one. */
function range (values: number[], digits: number): string {
  if (values.length === 1) return values[0].toFixed(digits)
  return `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)})`
}

interface ServingPeer {
  address: string
  /** CPU seconds the serving process has used so far. */
  cpuSeconds(): Promise<number>
  stop(): Promise<void>
}

/** Node A in a child process (servePeer.ts), as it would run on another machine. */
async function servePeer (home: string): Promise<ServingPeer> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./servePeer.ts', import.meta.url)), home], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  const waiting: Array<(line: string) => void> = []
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    for (let end = out.indexOf('\n'); end >= 0; end = out.indexOf('\n')) {
      waiting.shift()?.(out.slice(0, end).trim())
      out = out.slice(end + 1)
    }
  })
  const nextLine = async (): Promise<string> => new Promise(resolve => waiting.push(resolve))
  const address = await Promise.race([
    nextLine(),
    exited.then(() => { throw new Error('the serving node exited before it listened') })
  ])
  return {
    address,
    cpuSeconds: async () => {
      const line = nextLine()
      child.stdin.write('cpu\n')
      return Number(await line)
    },
    stop: async () => { child.stdin.end(); await exited }
  }
}

/** CPU seconds this process has used so far. */
function ownCpuSeconds (): number {
  const used = process.cpuUsage()
  return (used.user + used.system) / 1e6
}

/** Sends `paths` one after another over a loopback socket into `target`. */
async function rawTcpCopy (paths: string[], target: string): Promise<void> {
  const server = createServer()
  const received = new Promise<void>((resolve, reject) => {
    server.once('connection', socket => { pipeline(socket, createWriteStream(target)).then(resolve, reject) })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1')
  for (const path of paths) await pipeline(createReadStream(path), socket, { end: false })
  socket.end()
  await received
  server.close()
}
