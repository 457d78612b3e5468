import { BaseError } from '@commons/errors'

/** Something the explorer was asked for does not exist (no such job, DAO, version or file). */
export class NotIndexedError extends BaseError {
  override name = 'NotIndexedError'
}

/** Content named on-chain (a version, a run) is in none of the home's stores. */
export class ContentMissingError extends BaseError {
  override name = 'ContentMissingError'
}


/** The explorer's port is taken (another explorer, or any other server). */
export class PortInUseError extends BaseError {
  override name = 'PortInUseError'
}
