export * from './byteTokens.ts'
export * from './pretokenize.ts'
export * from './bpe.ts'
export * from './tokenizerJson.ts'
