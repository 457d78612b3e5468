import { parseEventLogs, type Abi, type Address, type ContractEventName, type TransactionReceipt } from 'viem'
import { ContractRevertError } from './errors.ts'

/**
 * The first `eventName` event a transaction emitted from a contract of `abi`, decoded
 * (viem's parseEventLogs skips the other contracts' logs, such as the token's Transfer).
 * `address`, when given, keeps only that contract's logs (another contract of the same
 * ABI may log in the same transaction). Throws when the transaction emitted none: the
 * call did not do what it was sent for.
 */
export function receiptEvent<const abi extends Abi, name extends ContractEventName<abi>> (
  receipt: Pick<TransactionReceipt, 'logs' | 'transactionHash'>, abi: abi, eventName: name, address?: Address
) {
  const logs = address === undefined ? receipt.logs : receipt.logs.filter(log => log.address.toLowerCase() === address.toLowerCase())
  const [event] = parseEventLogs({ abi, logs, eventName })
  if (event === undefined) {
    throw new ContractRevertError(`the transaction emitted no ${eventName} event`, { hint: 'the call did not take effect; look at the transaction', details: { hash: receipt.transactionHash, eventName } })
  }
  return event
}
