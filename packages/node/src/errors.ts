import { BaseError } from '@commons/errors'

/** A block of a DAG could not be had from any connected peer in time, or was unreadable. */
export class FetchError extends BaseError {
  override name = 'FetchError'
}

/** A peer address could not be dialled. */
export class DialError extends BaseError {
  override name = 'DialError'
}

/** No DHT peer took a provider record (none known yet, or none answered in time). */
export class ProvideError extends BaseError {
  override name = 'ProvideError'
}

/** The node is stopping: long work gives up (and is taken up again at the next start). */
export class NodeStoppingError extends BaseError {
  override name = 'NodeStoppingError'
  constructor (message = 'the node is stopping') {
    super(message)
  }
}
