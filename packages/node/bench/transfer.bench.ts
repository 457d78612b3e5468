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
import { startNetwork } from '../src/index.ts'

/** Size of the run moved, in MB; `COMMONS_BENCH_TRANSFER_MB` overrides (the goal is stated for 100). */
const DEFAULT_MB = 100
/** A run directory's shape: a few checkpoints of weights and optimizer state. */
const FILES = 4

/**
 * A run of `mb` MB (random bytes in a few files, as a run's checkpoints are) committed
 * on node A (its own process) and fetched by CID by a node B, both on loopback with
 * their blockstores on disk: once over bitswap alone (what any IPFS node does) and once as Commons nodes do
 * it (the whole DAG in one stream); next to them, the same files copied over one raw
 * loopback TCP socket from disk to disk, the ceiling for any protocol on this machine.
 */
export async function benchTransfer (log: (line: string) => void, mb = Number(process.env.COMMONS_BENCH_TRANSFER_MB ?? DEFAULT_MB)): Promise<BenchResult> {
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
    log(`transfer: raw TCP copy of ${mb} MB`)
    const tcpSeconds = await rawTcpCopy(paths, join(root, 'tcp-copy.bin'))

    const storeA = await openStore(join(root, 'a'))
    await initDataset(storeA, 'run')
    const { cid } = await commitVersion(storeA, { name: 'run', path: data, message: 'run', author: 'bench', time: 0 })
    await storeA.close()
    const a = await servePeer(join(root, 'a'))
    /** Seconds for a fresh node B (its own empty store) to fetch the run from A. */
    const fetchOnce = async (name: string, dagStream: boolean): Promise<{ seconds: number, blocks: number }> => {
      const storeB = await openStore(join(root, name))
      const b = await startNetwork({ blockstore: storeB.blocks, dagStream })
      try {
        await b.connect(a.address)
        log(`transfer: B fetches the ${mb} MB run from A by CID (${dagStream ? 'whole-DAG stream' : 'bitswap only'})`)
        const started = performance.now()
        const fetched = await b.fetchDag(cid, { timeoutMs: 30_000 })
        return { seconds: (performance.now() - started) / 1000, blocks: fetched.blocks }
      } finally {
        await b.stop()
        await storeB.close()
      }
    }
    let bitswap, stream
    try {
      bitswap = await fetchOnce('b-bitswap', false)
      stream = await fetchOnce('b-stream', true)
    } finally {
      await a.stop()
    }
    const rate = (s: number): number => bytes / 1e6 / s
    return {
      part: 'transfer',
      title: `Transfer: a ${mb} MB run between two nodes on loopback, next to a raw TCP copy`,
      columns: ['how', 'seconds', 'MB/s', 'vs raw TCP'],
      rows: [
        ['raw TCP socket, file to file', tcpSeconds.toFixed(2), rate(tcpSeconds).toFixed(0), '1.00'],
        [`bitswap only, block by block (${bitswap.blocks} blocks)`, bitswap.seconds.toFixed(2), rate(bitswap.seconds).toFixed(0), (tcpSeconds / bitswap.seconds).toFixed(2)],
        ['fetchDag: whole-DAG stream (Commons to Commons)', stream.seconds.toFixed(2), rate(stream.seconds).toFixed(0), (tcpSeconds / stream.seconds).toFixed(2)]
      ],
      notes: [
        'all three read from and write to disk on the same machine; both fetches check every block against its CID and store it in B\'s blockstore (one file per block)',
        'libp2p adds noise encryption and yamux framing that the raw socket does not pay',
        `size by COMMONS_BENCH_TRANSFER_MB (default ${DEFAULT_MB})`
      ],
      figures: {
        mb,
        blocks: stream.blocks,
        tcpMBps: rate(tcpSeconds),
        bitswapMBps: rate(bitswap.seconds),
        streamMBps: rate(stream.seconds),
        seconds: { tcp: tcpSeconds, bitswap: bitswap.seconds, stream: stream.seconds }
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

/** Node A in a child process (servePeer.ts), as it would run on another machine. */
async function servePeer (home: string): Promise<{ address: string, stop(): Promise<void> }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./servePeer.ts', import.meta.url)), home], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  const address = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes('\n')) resolve(out.trim())
    })
    child.once('exit', code => { reject(new Error(`the serving node exited (${code}) before it listened`)) })
  })
  return { address, stop: async () => { child.stdin.end(); await exited } }
}

/** Seconds to send `paths` one after another over a loopback socket into `target`. */
async function rawTcpCopy (paths: string[], target: string): Promise<number> {
  const server = createServer()
  const received = new Promise<void>((resolve, reject) => {
    server.once('connection', socket => { pipeline(socket, createWriteStream(target)).then(resolve, reject) })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const started = performance.now()
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1')
  for (const path of paths) await pipeline(createReadStream(path), socket, { end: false })
  socket.end()
  await received
  const seconds = (performance.now() - started) / 1000
  server.close()
  return seconds
}
