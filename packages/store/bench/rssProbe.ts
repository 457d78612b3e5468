import { writeFileSync } from 'node:fs'

/**
 * Preloaded (node --import) into a benchmarked child process: at exit it writes the
 * process's peak resident set size in bytes and its CPU seconds (user + system, every
 * thread) to $COMMONS_BENCH_RSS as JSON, so a tool run as its user runs it (the CLI,
 * ipfs-car) is measured without changing it. CPU seconds say how much work a tool
 * does whatever else the machine runs; wall time says what a user waits for.
 */
const out = process.env.COMMONS_BENCH_RSS
if (out !== undefined && out !== '') {
  process.on('exit', () => {
    const usage = process.resourceUsage()
    writeFileSync(out, JSON.stringify({ rss: usage.maxRSS * 1024, cpu: (usage.userCPUTime + usage.systemCPUTime) / 1e6 }))
  })
}
