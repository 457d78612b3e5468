import { BaseError, isBaseError } from '@commons/errors'

/** A file or directory the command needs cannot be read or written. */
export class FileAccessError extends BaseError {
  override name = 'FileAccessError'
}

/** The node's SQLite state (`node/state.db`) cannot be opened or read. */
export class DamagedStateError extends BaseError {
  override name = 'DamagedStateError'
}

const FS_PROBLEMS: Record<string, string> = {
  ENOENT: 'does not exist',
  EACCES: 'cannot be accessed (permission denied)',
  EPERM: 'cannot be accessed (operation not permitted)',
  ENOTDIR: 'is not a directory (or lies under a file)',
  EISDIR: 'is a directory, not a file',
  ELOOP: 'is a loop of symbolic links',
  EROFS: 'is on a read-only file system',
  ENOSPC: 'cannot be written: the disk is full',
  ENAMETOOLONG: 'is too long a name',
  EMFILE: 'cannot be opened: too many open files'
}

/**
 * The errors a user can cause, from wherever they were raised, as named Commons
 * errors: a file system error (a missing or unreadable path), a damaged SQLite file
 * (a contract's custom error is made a sentence where the program reports it:
 * revertText.ts). Anything else is returned as is.
 */
export function asUserError (error: unknown): unknown {
  if (isBaseError(error)) return error
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (typeof code === 'string' && code in FS_PROBLEMS) {
    const path = (error as NodeJS.ErrnoException).path ?? '(a path)'
    return new FileAccessError(`${path} ${FS_PROBLEMS[code]}`, {
      hint: code === 'ENOENT' ? 'check the path' : 'check the path and its permissions',
      details: { path, code, syscall: (error as NodeJS.ErrnoException).syscall }, cause: error
    })
  }
  if (code === 'ERR_SQLITE_ERROR') {
    return new DamagedStateError(`a state database cannot be read: ${(error as Error).message}`, {
      hint: 'the file is damaged; move node/state.db aside and start the node again (it rebuilds from the chain)', cause: error
    })
  }
  return error
}
