import { openStore } from '@commons/store'
import { startNetwork } from '../src/network.ts'
import { BARE_PROTOCOL, serveBareBytes } from './bareStream.ts'

/**
 * A node in its own process for benchmarks: serves the store at `argv[2]` on loopback
 * (and `BARE_PROTOCOL`, bytes and nothing else, as the transfer bench's reference),
 * prints its first multiaddr on stdout, answers each line on stdin with the CPU seconds it
 * has used so far (a line on stdout), and stops when its stdin closes. Two nodes in
 * two processes, as on two machines, rather than both in one event loop.
 */
const store = await openStore(process.argv[2])
const node = await startNetwork({ blockstore: store.blocks })
await node.handle(BARE_PROTOCOL, serveBareBytes)
process.stdout.write(`${node.multiaddrs()[0]}\n`)
process.stdin.on('data', (chunk: Buffer) => {
  for (let i = 0; i < chunk.toString().split('\n').length - 1; i++) {
    const used = process.cpuUsage()
    process.stdout.write(`${(used.user + used.system) / 1e6}\n`)
  }
})
process.stdin.on('end', () => {
  void node.stop().then(async () => store.close()).then(() => process.exit(0))
})
