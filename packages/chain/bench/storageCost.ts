/**
 * What keeping a dataset costs in proof gas, Commons' deals next to Filecoin PDP's proof
 * shape, computed the same way for both: gas per proof × proofs per month × a gas price.
 * The source figures and where they come from are in docs/storage.md ("What it costs").
 */

/** Assumptions, stated: Ethereum L1 blocks, a gas price and an ETH price. */
export const COST_ASSUMPTIONS = { blockSeconds: 12, gasPriceGwei: 1, ethUsd: 3_000, daysPerMonth: 30 }

/**
 * PDP's published shape (FilOzone's PDPVerifier as Storacha's and Curio's operator
 * guides describe it): 5 challenges per proving period of 2,880 Filecoin epochs (~24 h),
 * each a 32-byte leaf of a SHA-256 binary Merkle tree over the data and its path.
 */
export const PDP = { challengesPerPeriod: 5, periodsPerDay: 1, leafBytes: 32, usdPerTiBMonth: 2.5, usdPerDataSetMonth: 0.024 }

const GIB = 2 ** 30

/** Calldata tokens of bytes under EIP-7623: 1 a zero byte, 4 any other. */
export function calldataTokens (bytes: Uint8Array): number {
  let tokens = 0
  for (const b of bytes) tokens += b === 0 ? 1 : 4
  return tokens
}

/** What a transaction of `tokens` calldata tokens and `execution` gas pays (EIP-7623). */
export function txGas (tokens: number, execution: number): number {
  return 21_000 + Math.max(10 * tokens, 4 * tokens + execution)
}

/**
 * A PDP proof as it would run on the same EVM: 5 tuples (leaf, path of `depth` 32-byte
 * siblings) ABI-encoded, all non-zero bytes; execution one sha256 precompile call per
 * level (64 bytes: 60 + 12·2 gas, ~200 more for the call and the memory around it) and
 * 50 k gas for the rest (the challenge draw, the bookkeeping): a model, not a measurement.
 */
export function pdpProofGas (datasetBytes: number): { depth: number, bytes: number, gas: number } {
  const depth = Math.ceil(Math.log2(datasetBytes / PDP.leafBytes))
  const bytes = 4 + 64 + PDP.challengesPerPeriod * (32 + 32 + 32 + 32 + 32 * depth)
  const execution = 50_000 + PDP.challengesPerPeriod * depth * (84 + 200)
  return { depth, bytes, gas: txGas(4 * bytes, execution) }
}

/** Dollars a month for `gasPerMonth`, at the stated gas and ETH prices. */
export function usdPerMonth (gasPerMonth: number): number {
  return gasPerMonth * COST_ASSUMPTIONS.gasPriceGwei * 1e-9 * COST_ASSUMPTIONS.ethUsd
}

export interface CostRow { scheme: string, proofsPerMonth: number, gasPerProof: number, datasetBytes: number, replicas: number }

/** One row of the cost table: gas and dollars per month, and per GiB-month of the dataset. */
export function costRow (row: CostRow): Array<string | number> {
  const gasPerMonth = row.gasPerProof * row.proofsPerMonth * row.replicas
  const usd = usdPerMonth(gasPerMonth)
  return [
    row.scheme, row.replicas, Math.round(row.proofsPerMonth), Math.round(row.gasPerProof), (gasPerMonth / 1e6).toFixed(1),
    usd.toPrecision(3), (usd / (row.datasetBytes / GIB)).toPrecision(3)
  ]
}

/** Proofs a replica owes a month with epochs of `epochBlocks` blocks. */
export function proofsPerMonth (epochBlocks: number): number {
  return COST_ASSUMPTIONS.daysPerMonth * 86_400 / COST_ASSUMPTIONS.blockSeconds / epochBlocks
}

/** PDP's published price per GiB-month of one copy (storage and proving, FWSS). */
export function pdpPublishedUsdPerGiBMonth (datasetBytes: number): number {
  return PDP.usdPerTiBMonth / 1024 + PDP.usdPerDataSetMonth / (datasetBytes / GIB)
}
