/**
 * The commitments alone: Merkle roots over tensors and token windows, and hex. What
 * the store needs, without the ABI encoding and test vectors of the package's index,
 * which load viem (~0.2 s of every command's start-up).
 */
export * from './commit.ts'
export * from './hex.ts'
export * from './words.ts'
export * from './windowProofs.ts'
