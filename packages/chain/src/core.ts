/**
 * The chain without the dispute machinery: clients, deployment, the devnet, the market,
 * DAOs, feeds, channels, services. It loads no engine and no store, so a command that only
 * reads or sends (`commons chain status`, `feed read`) starts in about half the time;
 * `@commons/chain` is this and the rest.
 */
export * from './errors.ts'
export * from './clients.ts'
export * from './chainSettings.ts'
export * from './cids.ts'
export * from './devnet.ts'
export * from './hardhat.ts'
export * from './deploy.ts'
export * from './staking.ts'
export * from './market.ts'
export * from './dao.ts'
export * from './generated/contracts.ts'
export * from './feed.ts'
export * from './chainlinkFeeds.ts'
export * from './feedUpdater.ts'
export * from './logs.ts'
export * from './receiptEvent.ts'
export * from './deployInference.ts'
export * from './channelVoucher.ts'
export * from './channel.ts'
export * from './services.ts'
export * from './scoring.ts'
