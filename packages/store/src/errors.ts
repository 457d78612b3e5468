import { BaseError } from '@commons/errors'

export class InvalidDatasetNameError extends BaseError {
  override name = 'InvalidDatasetNameError'
}

export class DatasetExistsError extends BaseError {
  override name = 'DatasetExistsError'
}

export class DatasetNotFoundError extends BaseError {
  override name = 'DatasetNotFoundError'
}

export class EmptyDatasetError extends BaseError {
  override name = 'EmptyDatasetError'
}

export class InvalidCidError extends BaseError {
  override name = 'InvalidCidError'
}

export class VersionNotFoundError extends BaseError {
  override name = 'VersionNotFoundError'
}

export class NotAVersionError extends BaseError {
  override name = 'NotAVersionError'
}

export class PathNotFoundError extends BaseError {
  override name = 'PathNotFoundError'
}

export class UnreadableFileError extends BaseError {
  override name = 'UnreadableFileError'
}

export class NothingToCommitError extends BaseError {
  override name = 'NothingToCommitError'
}

export class CorruptBlockError extends BaseError {
  override name = 'CorruptBlockError'
}

export class ExportTargetError extends BaseError {
  override name = 'ExportTargetError'
}

export class UnknownTokenizerError extends BaseError {
  override name = 'UnknownTokenizerError'
}

export class NotAFileError extends BaseError {
  override name = 'NotAFileError'
}

/** A dataset's ref file (`datasets/NAME.json`) cannot be parsed. */
export class DamagedRefError extends BaseError {
  override name = 'DamagedRefError'
}

/** A commit time outside what a date can show (before 1970 or past the year 9999). */
export class InvalidTimeError extends BaseError {
  override name = 'InvalidTimeError'
}

/** A CAR file that cannot be read: truncated, not a CAR, or a block that is not what its CID names. */
export class InvalidCarError extends BaseError {
  override name = 'InvalidCarError'
}

/** A stored token stream that cannot be read (closed, or shorter than its info says). */
export class TokenStreamError extends BaseError {
  override name = 'TokenStreamError'
}

/** Another process is compacting the store's packs. */
export class CompactionBusyError extends BaseError {
  override name = 'CompactionBusyError'
}

/** A pack could not be compacted (it is damaged); nothing was moved from it. */
export class CompactionError extends BaseError {
  override name = 'CompactionError'
}
