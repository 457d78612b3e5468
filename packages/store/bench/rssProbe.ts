import { writeFileSync } from 'node:fs'

/**
 * Preloaded (node --import) into a benchmarked child process: at exit it writes the
 * process's peak resident set size in bytes to $COMMONS_BENCH_RSS, so a tool run as
 * its user runs it (the CLI, ipfs-car) is measured without changing it.
 */
const out = process.env.COMMONS_BENCH_RSS
if (out !== undefined && out !== '') {
  process.on('exit', () => { writeFileSync(out, String(process.resourceUsage().maxRSS * 1024)) })
}
