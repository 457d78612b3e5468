import { BaseError } from '@commons/errors'

export class ChainUnreachableError extends BaseError {
  override name = 'ChainUnreachableError'
}

export class NotDeployedError extends BaseError {
  override name = 'NotDeployedError'
}

/** A contract said no: `details.error` is the custom error's name, `details.args` its values. */
export class ContractRevertError extends BaseError {
  override name = 'ContractRevertError'
}

/** A sent transaction was not mined in time: `details` has its nonce and its sender's. */
export class TransactionNotMinedError extends BaseError {
  override name = 'TransactionNotMinedError'
}

export class DevnetError extends BaseError {
  override name = 'DevnetError'
}

export class InvalidChainInputError extends BaseError {
  override name = 'InvalidChainInputError'
}

/** A storage proof cannot be built from the blocks at hand (`details.cid` names the block). */
export class StorageProofError extends BaseError {
  override name = 'StorageProofError'
}

/** Some challenge of a version draws a proof no transaction can carry (`details` has the bound). */
export class StorageProofTooLargeError extends BaseError {
  override name = 'StorageProofTooLargeError'
}

/** A model-file claim cannot be built: the run's blocks or S_T do not give one. */
export class ModelFileError extends BaseError {
  override name = 'ModelFileError'
}
