import { getAddress, type Address } from 'viem'
import type { Clients } from './clients.ts'
import { InvalidChainInputError } from './errors.ts'
import { priceFeedAbi } from './generated/contracts.ts'

/**
 * The price feed a deployment reads on a chain that has a real one: Chainlink's ETH / USD
 * aggregator (the proxy address, which survives Chainlink's upgrades). The devnet's own
 * PriceFeed speaks the same interface (decimals, description, latestRound, getRoundData),
 * so readers do not care which they get. `commons chain deploy --price-feed ADDRESS`
 * chooses any other, on any chain.
 */
export const CHAINLINK_ETH_USD: Readonly<Record<number, Address>> = {
  /** Ethereum mainnet. */
  1: '0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419',
  /** Sepolia. */
  11155111: '0x694AA1769357215DE4FAC081bf1f309aDC325306'
}

/** The feed to use on `chainId`: the one asked for, else Chainlink's known one, else none (deploy its own). */
export function feedFor (chainId: number, asked?: Address): Address | undefined {
  return asked ?? CHAINLINK_ETH_USD[chainId]
}

/**
 * Checks that `address` answers as a Chainlink-style feed (decimals and description)
 * before a deployment records it: a wrong address would only show when a reader fails.
 */
export async function checkFeed (clients: Clients, address: Address): Promise<{ address: Address, decimals: number, description: string }> {
  const code = await clients.public.getCode({ address })
  if (code === undefined || code === '0x') {
    throw new InvalidChainInputError(`there is no contract at ${address} on chain ${clients.public.chain.id} to read prices from`, {
      hint: 'pass --price-feed with the address of a Chainlink aggregator (proxy) on this chain', details: { address, chainId: clients.public.chain.id }
    })
  }
  try {
    const [decimals, description] = await Promise.all([
      clients.public.readContract({ address, abi: priceFeedAbi, functionName: 'decimals' }),
      clients.public.readContract({ address, abi: priceFeedAbi, functionName: 'description' })
    ])
    return { address: getAddress(address), decimals, description }
  } catch (cause) {
    throw new InvalidChainInputError(`the contract at ${address} does not answer as a price feed (decimals, description)`, {
      hint: 'pass --price-feed with the address of a Chainlink aggregator (proxy) on this chain', details: { address }, cause
    })
  }
}
