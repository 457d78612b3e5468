import { readFileSync, writeFileSync } from 'node:fs'

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
    writeFileSync(out, JSON.stringify({ rss: peakRss() ?? usage.maxRSS * 1024, cpu: (usage.userCPUTime + usage.systemCPUTime) / 1e6 }))
  })
}

/**
 * The peak RSS of this process's own memory (VmHWM, Linux). getrusage's maxRSS keeps the
 * peak of the process before exec, here the benchmark's own: small tools read as big as it.
 */
function peakRss (): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    return match === null ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined
  }
}
