import { BaseError } from '@commons/errors'

/** A block of a DAG could not be had from any connected peer in time, or was unreadable. */
export class FetchError extends BaseError {
  override name = 'FetchError'
}

/**
 * Content no peer gave within the fetch timeout (the error, or the error it was caused
 * by): the network's fault, perhaps for now only (its holder not reachable yet).
 */
export function notHadInTime (error: unknown): boolean {
  const fetch = error instanceof FetchError ? error : (error as Error | undefined)?.cause
  return fetch instanceof FetchError && fetch.details.timeoutMs !== undefined
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
