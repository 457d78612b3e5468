import { readFileSync } from 'node:fs'

/**
 * Whether process `pid` still runs. A process that has exited but was not yet reaped by
 * its parent (a zombie: a detached devnet's parent may be an init that reaps late) answers
 * signal 0 like a live one; on Linux its /proc state says it is dead.
 */
export function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    // /proc/PID/stat: "pid (comm) state ...", comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true // no /proc (not Linux): signal 0 is all there is
  }
}
