import { NodeError } from './context.ts'

/** Why a provider refuses a paid request; each is a 402 over HTTP, with its name as the error code. */

/** The voucher is not the channel client's signature for this provider on this chain and contract. */
export class InvalidVoucherError extends NodeError {
  override name = 'InvalidVoucherError'
}

/** The voucher was taken before: each request brings a voucher of its own. */
export class VoucherReplayedError extends NodeError {
  override name = 'VoucherReplayedError'
}

/** The channel's best voucher does not cover what it has spent plus this request. */
export class VoucherTooLowError extends NodeError {
  override name = 'VoucherTooLowError'
}

/** The voucher promises more than the channel holds. */
export class ChannelOverspentError extends NodeError {
  override name = 'ChannelOverspentError'
}

/** The channel is closed, or expires before the provider could safely claim. */
export class ChannelNotUsableError extends NodeError {
  override name = 'ChannelNotUsableError'
}

/** The request itself is malformed (no prompt, too many tokens, a model this provider does not serve). */
export class BadInferenceRequestError extends NodeError {
  override name = 'BadInferenceRequestError'
}

export const PAYMENT_ERRORS = new Set(['InvalidVoucherError', 'VoucherReplayedError', 'VoucherTooLowError', 'ChannelOverspentError', 'ChannelNotUsableError'])
