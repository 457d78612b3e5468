import { encodePacked, keccak256, recoverTypedDataAddress, type Account, type Address, type Hex } from 'viem'
import { inferenceContracts, type Deployment } from '@commons/chain'
import { NodeError } from './context.ts'

/**
 * What a provider signs with every answer: enough for anyone holding the prompt to replay
 * the generation and check it token for token (and, later, to dispute it on-chain), and
 * what the answer was paid with. EIP-712 over the chain and the ServiceRegistry.
 */

/** How an answer is generated: greedy when `seed` is null, else sampled under the seed. */
export interface SamplingParams {
  tokens: number
  seed: number | null
  temperature: number
  topK: number | null
  topP: number | null
}

export interface Receipt {
  provider: Address
  /** The ServiceRegistry id the provider answered as ('0': a provider not registered). */
  service: string
  /** Seconds since 1970 by the provider's clock: a receipt is disputable for the unbonding delay after. */
  issuedAt: number
  modelRoot: Hex
  /** keccak256 of the prompt's token ids, each a uint32. */
  promptHash: Hex
  params: SamplingParams
  /** keccak256 of the output's token ids, each a uint32. */
  outputHash: Hex
  pricePer1k: string
  /** What this answer cost: ceil((prompt + output tokens) × pricePer1k / 1000). */
  cost: string
  channel: Hex
  /** The voucher amount it was paid with, and the channel's spent total after it. */
  cumulative: string
  spent: string
  signature: Hex
}

const RECEIPT_TYPES = {
  Receipt: [
    { name: 'provider', type: 'address' }, { name: 'service', type: 'uint256' }, { name: 'issuedAt', type: 'uint64' }, { name: 'modelRoot', type: 'bytes32' }, { name: 'promptHash', type: 'bytes32' },
    { name: 'tokens', type: 'uint32' }, { name: 'seeded', type: 'bool' }, { name: 'seed', type: 'uint64' },
    { name: 'temperatureBits', type: 'uint32' }, { name: 'topK', type: 'uint32' }, { name: 'topPBits', type: 'uint32' },
    { name: 'outputHash', type: 'bytes32' }, { name: 'pricePer1k', type: 'uint256' }, { name: 'cost', type: 'uint256' },
    { name: 'channel', type: 'bytes32' }, { name: 'cumulative', type: 'uint256' }, { name: 'spent', type: 'uint256' }
  ]
} as const

/** A binary32's bits: the sampling parameters are signed exactly as the engine rounds them. */
const f32Bits = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0]

export const tokensHash = (tokens: readonly number[]): Hex => keccak256(encodePacked(tokens.map(() => 'uint32' as const), [...tokens]))

/** The EIP-712 message of a receipt: also the struct InferenceDisputes reads at open. */
export function receiptMessage (r: Omit<Receipt, 'signature'>) {
  return {
    provider: r.provider, service: BigInt(r.service), issuedAt: BigInt(r.issuedAt), modelRoot: r.modelRoot, promptHash: r.promptHash, tokens: r.params.tokens,
    seeded: r.params.seed !== null, seed: BigInt(r.params.seed ?? 0), temperatureBits: f32Bits(r.params.temperature),
    topK: r.params.topK ?? 0, topPBits: f32Bits(r.params.topP ?? 0), outputHash: r.outputHash, pricePer1k: BigInt(r.pricePer1k),
    cost: BigInt(r.cost), channel: r.channel, cumulative: BigInt(r.cumulative), spent: BigInt(r.spent)
  }
}

const domain = (deployment: Deployment) =>
  ({ name: 'Commons Receipt', version: '1', chainId: deployment.chainId, verifyingContract: inferenceContracts(deployment).serviceRegistry }) as const

export async function signReceipt (account: Account, deployment: Deployment, receipt: Omit<Receipt, 'signature'>): Promise<Receipt> {
  if (account.signTypedData === undefined) throw new NodeError('the provider\'s account cannot sign receipts', { hint: 'serve with a local key' })
  const signature = await account.signTypedData({ domain: domain(deployment), types: RECEIPT_TYPES, primaryType: 'Receipt', message: receiptMessage(receipt) })
  return { ...receipt, signature }
}

export class InvalidReceiptError extends NodeError {
  override name = 'InvalidReceiptError'
}

/** Checks that `receipt` is signed by the provider it names; throws InvalidReceiptError otherwise. */
export async function checkReceiptSignature (deployment: Deployment, receipt: Receipt): Promise<void> {
  const { signature, ...rest } = receipt
  const signer = await recoverTypedDataAddress({ domain: domain(deployment), types: RECEIPT_TYPES, primaryType: 'Receipt', message: receiptMessage(rest), signature })
  if (signer.toLowerCase() !== receipt.provider.toLowerCase()) {
    throw new InvalidReceiptError(`the receipt is signed by ${signer}, not by its provider ${receipt.provider}`, { hint: 'the answer or its receipt was altered', details: { signer, provider: receipt.provider } })
  }
}
