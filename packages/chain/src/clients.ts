import {
  BaseError as ViemError, ContractFunctionRevertedError, createPublicClient, createWalletClient, createNonceManager, decodeErrorResult, defineChain, http,
  isAddressEqual, keccak256, recoverTransactionAddress, serializeTransaction,
  type Abi, type AbiItem, type Account, type Chain, type ContractFunctionArgs, type ContractFunctionName, type Hex, type NonceManager,
  type PublicClient, type TransactionReceipt, type Transport, type WalletClient, TransactionNotFoundError, TransactionReceiptNotFoundError,
  WaitForTransactionReceiptTimeoutError
} from 'viem'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { jsonRpc } from 'viem/nonce'
import { ChainUnreachableError, ContractRevertError, TransactionNotMinedError } from './errors.ts'
import { RATE_LIMIT_RETRIES, settingsFor, type ConnectOptions } from './chainSettings.ts'
import * as contracts from './generated/contracts.ts'

/** A connection to one chain: reads through `public`, writes as `account`. */
export interface Clients {
  public: PublicClient<Transport, Chain>
  wallet: WalletClient<Transport, Chain, Account>
  account: Account
  rpcUrl: string
  /** Milliseconds between polls of this chain (receipts, events): never faster than it makes blocks. */
  pollingMs: number
  /** Blocks past the mining block a receipt waits for before it is acted on (0 on a devnet). */
  confirmations: number
  /** Milliseconds a sent transaction may take to be mined and confirmed (default: receiptTimeoutMs). */
  receiptTimeoutMs?: number
}

/** The devnet's well-known development mnemonic (anvil's default): never for real funds. */
export const DEVNET_MNEMONIC = 'test test test test test test test test test test test junk'

/** Development account `index` of the devnet mnemonic. */
export function devnetAccount (index: number): Account {
  return mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: index })
}

/**
 * One nonce manager per chain, shared by every connection to it in this process: two
 * connections of one account take consecutive nonces. A chain is known by its id and
 * genesis hash: two local devnets (a test's, a demo's) share the id 31337 but not their
 * accounts' nonces, and a devnet restarted from its state is the same chain.
 */
const nonceManagers = new Map<string, NonceManager>()
function nonceManagerOf (chain: string): NonceManager {
  let manager = nonceManagers.get(chain)
  if (manager === undefined) {
    manager = createNonceManager({ source: jsonRpc() })
    nonceManagers.set(chain, manager)
  }
  return manager
}

/**
 * The chain's id and genesis hash. A refused connection fails at once (no chain there),
 * but a provider refusing for its rate is asked again with the connection's backoff.
 */
async function probeChain (probe: PublicClient): Promise<[number, Hex]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return [await probe.getChainId(), (await probe.getBlock({ blockNumber: 0n })).hash]
    } catch (error) {
      if (attempt >= RATE_LIMIT_RETRIES.retryCount || !isRateLimit(error)) throw error
      await new Promise(resolve => setTimeout(resolve, RATE_LIMIT_RETRIES.retryDelay * 2 ** attempt))
    }
  }
}

/** HTTP 429 or JSON-RPC -32005 (or 429) anywhere in the error's causes. */
function isRateLimit (error: unknown): boolean {
  if (!(error instanceof ViemError)) return false
  return error.walk(e => {
    const { status, code } = e as { status?: number, code?: number }
    return status === 429 || code === -32005 || code === 429
  }) !== null
}

/**
 * Connects to `rpcUrl` as `account` (a private key or an account object). Every request
 * a provider refuses for its rate is retried with backoff (RATE_LIMIT_RETRIES); a local
 * account's nonces come from viem's nonce manager, one per chain for the whole
 * process (nonceManagerOf), so concurrent sends from one account take consecutive nonces instead
 * of racing for the pending one; fees are EIP-1559's, with room for the base fee to
 * double before the transaction is mined. `options` sets confirmations and polling
 * (chainSettings.ts).
 */
export async function connect (rpcUrl: string, account: Account | Hex, options: ConnectOptions = {}): Promise<Clients> {
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) })
  let id: number
  let genesis: Hex
  try {
    ;[id, genesis] = await probeChain(probe)
  } catch (cause) {
    throw new ChainUnreachableError(`no chain answers at ${rpcUrl}`, {
      hint: 'start one with commons chain up, or pass --rpc URL', details: { rpcUrl }, cause
    })
  }
  const chain = defineChain({
    id, name: `chain ${id}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } },
    // maxFeePerGas = 2 x base fee + tip: still included after several full blocks raise the base fee (it is a cap, not the price paid).
    fees: { baseFeeMultiplier: 2 }
  })
  const base = typeof account === 'string' ? privateKeyToAccount(account) : account
  const signer: Account = base.type === 'local' && base.nonceManager === undefined ? { ...base, nonceManager: nonceManagerOf(`${id}:${genesis}`) } : base
  const transport = http(rpcUrl, RATE_LIMIT_RETRIES)
  const { pollingMs, confirmations } = await settingsFor(createPublicClient({ chain, transport }), id, options)
  return {
    // No cache of the block number: a read right after a transaction must see its block
    // (a cached head made log searches miss a just-posted op trace).
    public: createPublicClient({ chain, transport, pollingInterval: pollingMs, cacheTime: 0 }),
    wallet: createWalletClient({ chain, transport, account: signer, pollingInterval: pollingMs }),
    account: signer,
    rpcUrl,
    pollingMs,
    confirmations,
    ...(options.receiptTimeoutMs === undefined ? {} : { receiptTimeoutMs: options.receiptTimeoutMs })
  }
}

/**
 * Waits for the receipt of `hash` and for the connection's confirmations past its block:
 * what every send acts on. A transaction not mined in `timeoutMs` (default: the
 * connection's, else receiptTimeoutMs) is a TransactionNotMinedError that says why (notMined).
 */
export async function waitForReceipt (clients: Clients, hash: Hex, timeoutMs = clients.receiptTimeoutMs ?? receiptTimeoutMs(clients)): Promise<TransactionReceipt> {
  // Aborted when the wait times out: viem's look-ups of a transaction the chain does not know go on retrying past it.
  const stop = new AbortController()
  try {
    return await clients.public.waitForTransactionReceipt({ hash, confirmations: 1 + clients.confirmations, pollingInterval: clients.pollingMs, timeout: timeoutMs, signal: stop.signal })
  } catch (error) {
    if (!(error instanceof WaitForTransactionReceiptTimeoutError)) throw error
    stop.abort()
    throw await notMined(clients, hash, timeoutMs, error)
  }
}

/** What became of a sent transaction: still in the pool, mined (and how it ended), or unknown to the chain (dropped, or never reached it). */
export type TransactionOutcome = 'pending' | 'succeeded' | 'reverted' | 'unknown'

/**
 * The outcome of `hash` now (a caller holding back a second try while the first may still
 * land). Only the chain's answer that it knows no such transaction makes 'unknown': a
 * request that fails (a rate limit, a timeout) throws, and the caller looks again later.
 */
export async function transactionOutcome (clients: Clients, hash: Hex): Promise<TransactionOutcome> {
  const receipt = await clients.public.getTransactionReceipt({ hash }).catch((error: unknown) => {
    if (error instanceof TransactionReceiptNotFoundError) return undefined
    throw error
  })
  if (receipt !== undefined) return receipt.status === 'success' ? 'succeeded' : 'reverted'
  return await clients.public.getTransaction({ hash }).then(() => 'pending' as const, (error: unknown) => {
    if (error instanceof TransactionNotFoundError) return 'unknown' as const
    throw error
  })
}

/**
 * The outcome of one action sent as several transactions at one nonce (a send's copies at
 * higher fees: `TransactionNotMinedError.details.hashes`): a mined one decides (succeeded
 * or reverted: no other can be mined after it), else pending if one still waits, else unknown.
 */
export async function transactionsOutcome (clients: Clients, hashes: Hex[]): Promise<TransactionOutcome> {
  const outcomes = await Promise.all(hashes.map(async hash => transactionOutcome(clients, hash)))
  return (['succeeded', 'reverted', 'pending'] as const).find(outcome => outcomes.includes(outcome)) ?? 'unknown'
}

/**
 * Makes the next send of this account take its nonce from the chain (its pending count)
 * again. The nonce manager hands out one past the last nonce it gave, so after a
 * transaction is dropped every later send would wait behind the nonce it left unused.
 */
export function forgetNonce (clients: Clients): void {
  const chainId = clients.public.chain?.id
  if (chainId !== undefined) clients.account.nonceManager?.reset({ address: clients.account.address, chainId })
}

/**
 * Three minutes, or thirty polls of a chain slower than that (its block time): a
 * transaction not mined by then is stuck. Not shorter: the callers that try a move again
 * send it with a fresh nonce, and a first one mined late would then land twice (a send
 * itself replaces a transaction priced out sooner, at its nonce: writeAndWait).
 */
export function receiptTimeoutMs (clients: Pick<Clients, 'pollingMs'>): number {
  return Math.max(180_000, 30 * clients.pollingMs)
}

/**
 * Why `hash` was not mined (or not confirmed), from what the chain says of it and of its
 * sender's nonces: mined but short of its confirmations, unknown to the chain (dropped
 * from its pool), waiting behind a nonce no transaction of the sender holds (a gap: the
 * pending nonce, the next one the pool can run, is below its own), or pending in turn.
 */
async function notMined (clients: Clients, hash: Hex, timeoutMs: number, cause: unknown): Promise<TransactionNotMinedError> {
  const [tx, receipt] = await Promise.all([
    clients.public.getTransaction({ hash }).catch(() => undefined),
    clients.public.getTransactionReceipt({ hash }).catch(() => undefined)
  ])
  const sender = tx?.from ?? clients.account.address
  const [mined, pending] = await Promise.all((['latest', 'pending'] as const).map(async blockTag =>
    clients.public.getTransactionCount({ address: sender, blockTag }).catch(() => undefined)))
  const details = { hash, sender, nonce: tx?.nonce, minedNonces: mined, pendingNonces: pending, block: receipt?.blockNumber, timeoutMs }
  const seconds = Math.round(timeoutMs / 1000)
  if (receipt !== undefined) {
    return new TransactionNotMinedError(`transaction ${hash} was mined in block ${receipt.blockNumber} but had not ${clients.confirmations} confirmations after ${seconds} s`, {
      hint: 'the chain makes blocks slowly: look at its effect before doing the action again', details: { ...details, reason: 'confirmations' }, cause
    })
  }
  if (tx === undefined) {
    return new TransactionNotMinedError(`transaction ${hash} was not mined in ${seconds} s and the chain no longer knows it`, {
      hint: 'it was dropped from the pool (fees too low, or replaced): check that its effect is not there, then do the action again', details: { ...details, reason: 'dropped' }, cause
    })
  }
  if (pending !== undefined && tx.nonce > pending) {
    return new TransactionNotMinedError(`transaction ${hash} (nonce ${tx.nonce}) was not mined in ${seconds} s: it waits behind nonce ${pending} of ${sender}, which no transaction the chain holds has`, {
      hint: 'an earlier transaction of this account never reached the chain (a nonce gap): send any transaction from the account with that nonce, or restart the node to take nonces afresh', details: { ...details, reason: 'gap' }, cause
    })
  }
  // Next in line (no earlier transaction of the sender waits) and still not mined: the
  // chain will not take it at its price.
  const reason = tx.nonce === mined ? 'underpriced' : 'pending'
  return new TransactionNotMinedError(`transaction ${hash} (nonce ${tx.nonce}) was not mined in ${seconds} s though the chain holds it`, {
    hint: 'the chain is not including it (fees below the base fee, a congested or stalled chain): check the chain with commons chain status', details: { ...details, reason }, cause
  })
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
    const receipt = await writeAndWait(clients, { ...(simulated as object), gas })
    if (receipt.status !== 'success') {
      throw new ContractRevertError(`${String(request.functionName)} reverted`, { details: { hash: receipt.transactionHash, gasUsed: receipt.gasUsed, gas, outOfGas: receipt.gasUsed >= gas } })
    }
    return receipt
  } catch (error) {
    throw asRevertError(error, String(request.functionName))
  }
}

/** Times a transaction the chain will not take at its price is sent again, at a higher one. */
export const FEE_BUMPS = 3

/** What a sent transaction's replacement must match and outbid. */
interface Sent { nonce: number, maxFeePerGas?: bigint, maxPriorityFeePerGas?: bigint }

/**
 * Sends a prepared call and waits for its receipt. A transaction next in line that the
 * chain will not mine at its price (its fee cap under a base fee that rose, a tip too
 * small for a busy chain), whether its pool still holds it or dropped it (anvil drops
 * it), is sent again up to FEE_BUMPS times with the same nonce, at a quarter more than
 * its fees or the chain's price now if that is higher, after a wait of a few blocks
 * (bumpWaitMs) rather than the whole receipt wait. Sending the call again with a new
 * nonce, as a caller's retry would, only queues it behind the stuck one (or behind the
 * gap the dropped one left): a rise of the base fee, which anyone can cause by filling
 * blocks, would hold a dispute move until its deadline. Whichever of the copies is mined
 * (each is looked for once the nonce is used), its receipt is returned. When a copy
 * cannot be sent (a legacy chain, a fee estimate or a simulation that fails, a refusal),
 * the TransactionNotMinedError of the one waiting is thrown, as without copies: callers
 * read from it that a transaction may still be mined.
 */
async function writeAndWait (clients: Clients, call: object): Promise<TransactionReceipt> {
  const hashes: Hex[] = [await clients.wallet.writeContract(call as never)]
  // Read while the chain surely holds it: a transaction it drops later is known no more.
  let sent: Sent | undefined = await clients.public.getTransaction({ hash: hashes[0] }).catch(() => undefined)
  for (let bump = 1; ; bump++) {
    const last = bump > FEE_BUMPS || sent === undefined
    try {
      return await waitForReceipt(clients, hashes[hashes.length - 1], last ? undefined : bumpWaitMs(clients))
    } catch (error) {
      if (!(error instanceof TransactionNotMinedError)) throw error
      // Every copy sent: any may still land (transactionsOutcome).
      error.details.hashes = [...hashes]
      // A nonce left unused (dropped) or waited behind: the next send takes the chain's count.
      if (error.details.reason === 'dropped' || error.details.reason === 'gap') forgetNonce(clients)
      if (sent === undefined) throw error
      const mined = await minedAmong(clients, hashes, sent.nonce, error.details.minedNonces as number | undefined)
      if (mined !== undefined) return await waitForReceipt(clients, mined)
      if (last || !outpriced(error, sent.nonce)) throw error
      const copy = await copyAtHigherFee(clients, sent, async () => clients.public.simulateContract({ ...call, account: clients.account, blockTag: 'latest' } as never)).catch(() => undefined)
      if (copy === undefined) throw error
      try {
        hashes.push(await clients.wallet.writeContract({ ...call, ...copy } as never))
        sent = copy
      } catch (refused) {
        // Mined meanwhile (its nonce is used): the next turn finds its receipt. Else the
        // one waiting stays the send's, and the caller hears it is not mined.
        if (!/nonce too low|nonce has already been used/i.test((refused as Error).message)) throw error
      }
    }
  }
}

/**
 * How long a send waits before it sends a copy at a higher fee: five block times, and at
 * least 15 s, within the connection's receipt wait. A same-nonce copy cannot land twice,
 * so this need not be as long as the receipt wait.
 */
function bumpWaitMs (clients: Clients): number {
  return Math.min(clients.receiptTimeoutMs ?? receiptTimeoutMs(clients), Math.max(15_000, 5 * clients.pollingMs))
}

/**
 * The hash among `hashes` that was mined, once the sender's `nonce` is used (`minedNonces`:
 * the count notMined read with the error); undefined while it is not, or when another
 * transaction used it.
 */
async function minedAmong (clients: Clients, hashes: Hex[], nonce: number, minedNonces: number | undefined): Promise<Hex | undefined> {
  if (minedNonces === undefined || minedNonces <= nonce) return undefined
  for (const hash of hashes) {
    if (await clients.public.getTransactionReceipt({ hash }).then(() => true, () => false)) return hash
  }
  return undefined
}

/**
 * Whether a transaction of `nonce` was left out for its price: next in line and held,
 * or dropped with its nonce unused and no other transaction of the sender holding it in
 * the pool (another process's, which a copy would push out).
 */
function outpriced (error: TransactionNotMinedError, nonce: number): boolean {
  const { reason, minedNonces, pendingNonces } = (error.details ?? {}) as { reason?: string, minedNonces?: number, pendingNonces?: number }
  if (reason === 'underpriced') return true
  return reason === 'dropped' && minedNonces !== undefined && pendingNonces !== undefined && minedNonces <= nonce && pendingNonces <= nonce
}

/**
 * The fees and nonce of a copy of `sent`: a quarter more than its fees, or the chain's
 * price now if higher. Throws on a legacy transaction (no EIP-1559 fees to raise) and
 * when `simulate` (the call on the latest block: a pending block that holds the first, on
 * a chain merely slow to include a low tip, would make the copy look like a revert)
 * throws, as when the dispute moved on or a deadline passed: a copy is never sent to fail.
 */
async function copyAtHigherFee (clients: Clients, sent: Sent, simulate: () => Promise<unknown>): Promise<Required<Sent>> {
  if (sent.maxFeePerGas === undefined || sent.maxPriorityFeePerGas === undefined) throw new Error('a legacy transaction')
  const [now] = await Promise.all([clients.public.estimateFeesPerGas(), simulate()])
  return raisedFees(sent as Required<Sent>, now)
}

function raisedFees (sent: Required<Sent>, now: { maxFeePerGas: bigint, maxPriorityFeePerGas: bigint }): Required<Sent> {
  const raised = (fee: bigint, floor: bigint): bigint => {
    const more = fee * 5n / 4n + 1n
    return more > floor ? more : floor
  }
  const maxPriorityFeePerGas = raised(sent.maxPriorityFeePerGas, now.maxPriorityFeePerGas)
  const floor = now.maxFeePerGas > maxPriorityFeePerGas ? now.maxFeePerGas : maxPriorityFeePerGas
  return { nonce: sent.nonce, maxPriorityFeePerGas, maxFeePerGas: raised(sent.maxFeePerGas, floor) }
}

export interface RepriceOptions {
  /** Told the copy's hash once it is signed, before it is sent: a caller that must know every copy that may land keeps it first. */
  onSigned?: (hash: Hex) => void
}

/**
 * Sends again the newest of `hashes` (the copies of one transaction a
 * TransactionNotMinedError names) if the chain still holds it unmined, next in line, at
 * a price under what a block takes now (its fee cap under the next base fee and the
 * chain's tip, or its tip under the chain's): same nonce, call and gas, at a quarter more
 * than its fees or the chain's price now. For a caller that held a move back because it
 * must never be sent twice (a dispute's open) and finds it still waiting: a base fee that
 * rose past every copy writeAndWait sent would otherwise hold the move until its
 * deadline. What is signed again is checked first to be this account's own transaction
 * (it hashes to what was asked, and its signature is this account's): the provider's
 * word is not taken for it. Returns the copy's hash, or undefined when there is no copy
 * to send: the transaction mined or unknown to the chain, not this account's, waiting
 * behind another, priced for inclusion (a chain that is merely slow is not paid more),
 * a legacy one, or a call that would now revert. Throws what the chain says to a copy it
 * refuses.
 */
export async function repriceWaiting (clients: Clients, hashes: Hex[], options: RepriceOptions = {}): Promise<Hex | undefined> {
  const hash = hashes[hashes.length - 1]
  const tx = await clients.public.getTransaction({ hash }).catch(() => undefined)
  if (tx?.type !== 'eip1559' || tx.blockNumber !== null || tx.to === null) return undefined
  const call = { to: tx.to, data: tx.input, value: tx.value, gas: tx.gas }
  const signed = serializeTransaction({ ...call, chainId: tx.chainId, type: 'eip1559', nonce: tx.nonce, maxFeePerGas: tx.maxFeePerGas, maxPriorityFeePerGas: tx.maxPriorityFeePerGas, accessList: tx.accessList }, { r: tx.r, s: tx.s, yParity: tx.yParity })
  if (keccak256(signed) !== hash || !isAddressEqual(await recoverTransactionAddress({ serializedTransaction: signed }), clients.account.address)) return undefined
  const [block, minedNonces, now] = await Promise.all([
    clients.public.getBlock({ blockTag: 'latest' }),
    clients.public.getTransactionCount({ address: clients.account.address, blockTag: 'latest' }),
    clients.public.estimateFeesPerGas()
  ])
  if (tx.nonce !== minedNonces) return undefined
  const takes = (block.baseFeePerGas ?? 0n) * 9n / 8n + now.maxPriorityFeePerGas
  if (tx.maxFeePerGas >= takes && tx.maxPriorityFeePerGas >= now.maxPriorityFeePerGas) return undefined
  try {
    await clients.public.call({ ...call, account: clients.account.address, blockTag: 'latest' })
  } catch {
    return undefined
  }
  const fees = raisedFees({ nonce: tx.nonce, maxFeePerGas: tx.maxFeePerGas, maxPriorityFeePerGas: tx.maxPriorityFeePerGas }, now)
  const copy = await clients.wallet.signTransaction({ ...call, ...fees, account: clients.account, chain: clients.public.chain })
  const copyHash = keccak256(copy)
  options.onSigned?.(copyHash)
  await clients.public.sendRawTransaction({ serializedTransaction: copy })
  return copyHash
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
