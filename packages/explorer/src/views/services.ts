import { at, cidString, type ExplorerContext } from '../context.ts'

/** The inference market: each service with its model, price and stake, what happened to it, and what scoring paid it. */
export function listServiceViews (ctx: ExplorerContext) {
  const events = ctx.index.events({ contract: 'serviceRegistry' })
  const paid = ctx.index.events({ contract: 'scoringEpochs', names: ['ProviderPaid'] })
  return events.filter(e => e.name === 'ServiceRegistered').map(e => {
    const id = String(e.args.service)
    const of = events.filter(x => String(x.args.service) === id)
    const update = of.filter(x => x.name === 'ServiceUpdated').at(-1)
    const state = of.some(x => x.name === 'ServiceReleased') ? 'released' : of.some(x => x.name === 'ServiceRetiring') ? 'retiring' : 'live'
    return {
      id, provider: String(e.args.provider).toLowerCase(), model: cidString(e.args.modelCid), modelRoot: String(e.args.modelRoot),
      pricePer1k: String(update?.args.pricePer1k ?? e.args.pricePer1k), endpoint: String(update?.args.endpoint ?? e.args.endpoint), stake: String(e.args.stake), state,
      slashed: of.filter(x => x.name === 'ServiceSlashed').reduce((sum, x) => sum + BigInt(String(x.args.amount)), 0n).toString(),
      scoringPaid: paid.filter(x => String(x.args.service) === id).reduce((sum, x) => sum + BigInt(String(x.args.amount)), 0n).toString(),
      registered: at(e)
    }
  })
}
