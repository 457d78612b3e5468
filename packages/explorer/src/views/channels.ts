import { at, type ExplorerContext } from '../context.ts'

/** Payment channels of the inference market: who pays whom, the deposit, what was claimed and refunded. */
export function listChannelViews (ctx: ExplorerContext) {
  const events = ctx.index.events({ contract: 'paymentChannel' })
  return events.filter(e => e.name === 'Opened').map(e => {
    const id = String(e.args.channel)
    const of = events.filter(x => String(x.args.channel) === id)
    const topUp = of.filter(x => x.name === 'ToppedUp').at(-1)
    const claims = of.filter(x => x.name === 'Claimed')
    const reclaim = of.find(x => x.name === 'Reclaimed')
    return {
      id, client: String(e.args.client).toLowerCase(), provider: String(e.args.provider).toLowerCase(),
      deposit: String(topUp?.args.deposit ?? e.args.deposit), expiry: Number(topUp?.args.expiry ?? e.args.expiry),
      claimed: claims.reduce((sum, x) => sum + BigInt(String(x.args.paid)), 0n).toString(), claims: claims.length,
      refunded: reclaim === undefined ? '0' : String(reclaim.args.refund),
      state: reclaim !== undefined ? 'reclaimed' : 'open',
      opened: at(e),
      history: of.map(x => ({ event: x.name, ...at(x) }))
    }
  })
}
