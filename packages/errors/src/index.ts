/**
 * The base of every error Commons throws on purpose.
 *
 * `message` says what went wrong in one line; `hint` says what to do about it
 * (the CLI prints both); `details` carries the offending values for scripts.
 * Subclasses set `name`, and tests assert on the name, never on message text.
 */
export interface BaseErrorOptions {
  hint?: string
  details?: Record<string, unknown>
  cause?: unknown
}

export class BaseError extends Error {
  override name = 'BaseError'
  readonly hint?: string
  readonly details: Record<string, unknown>

  constructor (message: string, options: BaseErrorOptions = {}) {
    super(message, { cause: options.cause })
    this.hint = options.hint
    this.details = options.details ?? {}
  }
}

/** True for errors Commons raised on purpose, as opposed to bugs. */
export function isBaseError (error: unknown): error is BaseError {
  return error instanceof BaseError
}
