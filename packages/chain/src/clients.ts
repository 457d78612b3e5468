import {
  BaseError as ViemError, ContractFunctionRevertedError, createPublicClient, createWalletClient, decodeErrorResult, defineChain, http,
  type Abi, type AbiItem, type Account, type Chain, type ContractFunctionArgs, type ContractFunctionName, type Hex,
  type PublicClient, type TransactionReceipt, type Transport, type WalletClient
} from 'viem'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { ChainUnreachableError, ContractRevertError } from './errors.ts'
import * as contracts from './generated/contracts.ts'

/** A connection to one chain: reads through `public`, writes as `account`. */
export interface Clients {
  public: PublicClient<Transport, Chain>
  wallet: WalletClient<Transport, Chain, Account>
  account: Account
  rpcUrl: string
}

/** The devnet's well-known development mnemonic (anvil's default): never for real funds. */
export const DEVNET_MNEMONIC = 'test test test test test test test test test test test junk'

/** Development account `index` of the devnet mnemonic. */
export function devnetAccount (index: number): Account {
  return mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: index })
}

/** Connects to `rpcUrl` as `account` (a private key or an account object). */
export async function connect (rpcUrl: string, account: Account | Hex): Promise<Clients> {
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) })
  let id: number
  try {
    id = await probe.getChainId()
  } catch (cause) {
    throw new ChainUnreachableError(`no chain answers at ${rpcUrl}`, {
      hint: 'start one with commons chain up, or pass --rpc URL', details: { rpcUrl }, cause
    })
  }
  const chain = defineChain({ id, name: `chain ${id}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } })
  const signer = typeof account === 'string' ? privateKeyToAccount(account) : account
  return {
    // No cache of the block number: a read right after a transaction must see its block
    // (a cached head made log searches miss a just-posted op trace).
    public: createPublicClient({ chain, transport: http(rpcUrl), pollingInterval: 50, cacheTime: 0 }),
    wallet: createWalletClient({ chain, transport: http(rpcUrl), account: signer }),
    account: signer,
    rpcUrl
  }
}

export interface WriteRequest<A extends Abi, F extends ContractFunctionName<A, 'nonpayable' | 'payable'>> {
  address: Hex
  abi: A
  functionName: F
  args: ContractFunctionArgs<A, 'nonpayable' | 'payable', F>
}

/**
 * Gas a transaction is sent with: the estimate plus a margin, capped by the block gas
 * limit. The estimate is taken on the pending block, but the block that mines the call
 * can differ (a later timestamp makes a deadline store cost 2,900 gas instead of 100),
 * so a call sent with its bare estimate can run out of gas. Each retry of a failed call
 * (`attempt` 1, 2, ...) adds half the estimate again.
 */
export function gasWithMargin (estimate: bigint, blockGasLimit: bigint, attempt = 0): bigint {
  const gas = estimate * (12n + 5n * BigInt(attempt)) / 10n + GAS_MARGIN
  return gas < blockGasLimit ? gas : blockGasLimit
}

/** Gas added to every estimate on top of the proportional margin. */
export const GAS_MARGIN = 30_000n

export interface SendOptions {
  /** Which try of the same call this is (0 first): each raises the gas margin. */
  attempt?: number
}

/**
 * Sends one contract call and waits for its receipt. The call is simulated first, so
 * a revert surfaces as a ContractRevertError naming the contract's custom error and
 * its values, before any gas is spent; it is sent with its gas estimate plus a margin
 * (gasWithMargin), so a call that costs a little more when mined still goes through.
 */
export async function send<A extends Abi, F extends ContractFunctionName<A, 'nonpayable' | 'payable'>> (
  clients: Clients,
  request: WriteRequest<A, F>,
  options: SendOptions = {}
): Promise<TransactionReceipt> {
  try {
    // Simulated on the pending block: on a quiet devnet the latest block can be long
    // past, and time-dependent checks (voting windows, deadlines) must see now.
    const call = { ...request, account: clients.account, blockTag: 'pending' } as never
    const { request: simulated } = await clients.public.simulateContract(call)
    const [estimate, block] = await Promise.all([clients.public.estimateContractGas(call), clients.public.getBlock({ blockTag: 'latest' })])
    const gas = gasWithMargin(estimate, block.gasLimit, options.attempt)
    const hash = await clients.wallet.writeContract({ ...(simulated as object), gas } as never)
    const receipt = await clients.public.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') {
      throw new ContractRevertError(`${String(request.functionName)} reverted`, { details: { hash, gasUsed: receipt.gasUsed, gas, outOfGas: receipt.gasUsed >= gas } })
    }
    return receipt
  } catch (error) {
    throw asRevertError(error, String(request.functionName))
  }
}

/** Every custom error of the contract set, for reverts that bubble up from a contract the call reached. */
const KNOWN_ERRORS = (Object.entries(contracts).filter(([name]) => name.endsWith('Abi')).flatMap(([, abi]) => abi as readonly AbiItem[]))
  .filter(item => item.type === 'error')

function decodeKnownError (raw: Hex): { errorName: string, args: readonly unknown[] } | undefined {
  try {
    const decoded = decodeErrorResult({ abi: KNOWN_ERRORS, data: raw })
    return { errorName: decoded.errorName, args: decoded.args ?? [] }
  } catch {
    return undefined
  }
}

/** Turns viem's revert errors into ours, with the custom error's name and values. */
export function asRevertError (error: unknown, action: string): unknown {
  if (!(error instanceof ViemError)) return error
  const revert = error.walk(e => e instanceof ContractFunctionRevertedError)
  if (revert instanceof ContractFunctionRevertedError) {
    // An error raised by a contract the call went through (the token inside the market):
    // named from every ABI of the set.
    const data = revert.data ?? (revert.raw === undefined ? undefined : decodeKnownError(revert.raw))
    const name = data?.errorName ?? 'unknown error'
    const args = (data?.args ?? []).map(a => typeof a === 'bigint' ? a.toString() : a)
    return new ContractRevertError(`${action} was refused by the contract: ${name}(${args.join(', ')})`, {
      details: { error: name, args }, cause: error
    })
  }
  const details = error.shortMessage
  if (/fetch failed|ECONNREFUSED|HTTP request failed/i.test(error.message)) {
    return new ChainUnreachableError(`the chain stopped answering during ${action}`, { hint: 'is the devnet still running? commons chain status', cause: error })
  }
  return new ContractRevertError(`${action} failed: ${details}`, { cause: error })
}
