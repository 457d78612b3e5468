import { BaseError } from '@commons/errors'

/** A block of a DAG could not be had from any connected peer in time, or was unreadable. */
export class FetchError extends BaseError {
  override name = 'FetchError'
}

/** A peer address could not be dialled. */
export class DialError extends BaseError {
  override name = 'DialError'
}
