import { z } from 'zod'
import type { Address } from 'viem'
import { DEFAULT_MAX_AGE, readPrice } from '@commons/chain'
import { defineTool } from '../tool.ts'

/**
 * The latest round of the chain's Chainlink-compatible feed, with a verdict: a price
 * older than the heartbeat is reported as stale, never as the price now.
 */
export const priceTool = defineTool({
  name: 'price',
  description: 'The ETH / USD price from the chain\'s price feed now: value, decimals, round, when it was updated, and whether it is fresh or stale.',
  input: {
    heartbeat: z.number().int().min(1).max(7 * 86400).optional()
      .describe(`seconds after which the price is stale (default ${DEFAULT_MAX_AGE}, the feed's heartbeat)`),
    feed: z.string().regex(/^0x[0-9a-fA-F]{40}$/).optional()
      .describe('the address of any Chainlink-compatible feed on this chain (default: the deployment\'s)')
  },
  effect: 'read',
  run: async (ctx, args) => {
    const { clients, deployment } = await ctx.chain()
    // readPrice reads the deployment's feed: another feed is read through the same calls
    // (latestRound, getRoundData, decimals, description: Chainlink's AggregatorV2V3Interface).
    const target = args.feed === undefined ? deployment : { ...deployment, contracts: { ...deployment.contracts, priceFeed: args.feed as Address } }
    const r = await readPrice(clients, target, { maxAge: args.heartbeat ?? DEFAULT_MAX_AGE })
    return {
      description: r.description,
      price: r.price,
      value: r.answer.toString(),
      decimals: r.decimals,
      round: r.roundId.toString(),
      updatedAt: new Date(Number(r.updatedAt) * 1000).toISOString(),
      ageSeconds: Number(r.age),
      heartbeatSeconds: Number(r.maxAge),
      verdict: r.verdict,
      feed: r.feed,
      // Said in words too, so a model that reads only prose does not present an old price as current.
      summary: r.verdict === 'fresh'
        ? `${r.description} is ${r.price} (round ${r.roundId}, ${r.age} s old)`
        : `STALE: the last ${r.description} price, ${r.price}, is ${r.age} s old, past the ${r.maxAge} s heartbeat; it is not the price now`
    }
  }
})
