import { BaseError } from '@commons/errors'

export class TokenizerError extends BaseError {
  override name = 'TokenizerError'
}
