import { PackBlockstore } from '../packBlockstore.ts'

/**
 * A compaction in its own process, for crash tests: `node compactChild.ts DIR PACK_BYTES
 * [STAGE INDEX]` compacts the store in DIR, printing each step as a JSON line; with a
 * stage, it kills itself (SIGKILL: no cleanup runs) right after that step of pack INDEX.
 */
const [dir, packBytes, stage, index] = process.argv.slice(2)
const store = new PackBlockstore(dir, { packBytes: Number(packBytes) })
await store.open()
const result = await store.compact({
  minDeadShare: 0,
  onProgress: progress => {
    process.stdout.write(JSON.stringify(progress) + '\n')
    if (progress.stage === stage && progress.index === Number(index)) process.kill(process.pid, 'SIGKILL')
  }
})
await store.close()
process.stdout.write(JSON.stringify({ result }) + '\n')
