import { open, readFile, rm } from 'node:fs/promises'
import { BaseError } from '@commons/errors'

/** Another node runs on the same home: two would claim, train and spend from one key and one state. */
export class NodeLockedError extends BaseError {
  override name = 'NodeLockedError'
}

export interface HomeLock {
  release(): Promise<void>
}

/** True when a process with this pid exists (signal 0 checks without sending anything). */
function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes the home's node lock: a file created exclusively, holding the pid of its node.
 * A lock left by a node that died (killed, crashed: its pid is gone) is taken over, so
 * a restart after a crash needs no cleaning up; one held by a live process (or by
 * another node of this very process) refuses with NodeLockedError.
 */
export async function lockHome (path: string): Promise<HomeLock> {
  for (let tries = 0; tries < 2; tries++) {
    try {
      const file = await open(path, 'wx')
      await file.writeFile(`${process.pid}\n`)
      await file.close()
      let released = false
      return {
        async release () {
          if (released) return
          released = true
          await rm(path, { force: true })
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim())
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new NodeLockedError(`another node (pid ${pid}) is running on this home`, {
          hint: 'stop it first, or start this node with another --home', details: { pid, lock: path }
        })
      }
      await rm(path, { force: true }) // left by a node that is gone
    }
  }
  throw new NodeLockedError('could not take the node lock: another node keeps taking it', { details: { lock: path } })
}
