import { FEED_DECIMALS, formatAnswer } from '@commons/chain'
import { at, type ExplorerContext } from '../context.ts'

/** The price feed's rounds, oldest first, from its AnswerUpdated events. */
export function priceView (ctx: ExplorerContext) {
  const rounds = ctx.index.events({ contract: 'priceFeed', names: ['AnswerUpdated'] }).map(e => ({
    round: String(e.args.roundId), answer: formatAnswer(BigInt(String(e.args.current)), FEED_DECIMALS), updatedAt: Number(e.args.updatedAt), ...at(e)
  }))
  return { feed: ctx.deployment.contracts.priceFeed.toLowerCase(), decimals: FEED_DECIMALS, current: rounds.at(-1) ?? null, rounds }
}
