import type { ExplorerContext } from './context.ts'
import { accountView, listAccountViews } from './views/accounts.ts'
import { datasetView, diffView, listDatasetViews, versionView } from './views/datasets.ts'
import { daoView, listDaoViews } from './views/daos.ts'
import { disputeView, listDisputeViews } from './views/disputes.ts'
import { jobView, listJobViews, runView } from './views/jobs.ts'
import { priceView } from './views/price.ts'
import { listServiceViews } from './views/services.ts'
import { listStorageDealViews } from './views/storageDeals.ts'
import { listAgentViews } from './views/agents.ts'
import { listChannelViews } from './views/channels.ts'
import { listModelFileDisputeViews } from './views/modelFileDisputes.ts'

/** The JSON API: a path pattern per view, its captures passed in order. */
export type Route = [RegExp, (ctx: ExplorerContext, match: string[], query: URLSearchParams) => unknown]

export const ROUTES: Route[] = [
  [/^\/api\/summary$/, ctx => summary(ctx)],
  [/^\/api\/datasets$/, ctx => listDatasetViews(ctx)],
  [/^\/api\/datasets\/([^/]+)$/, async (ctx, [name]) => datasetView(ctx, name)],
  [/^\/api\/versions\/([^/]+)$/, async (ctx, [cid]) => versionView(ctx, cid)],
  [/^\/api\/diff$/, async (ctx, _m, q) => diffView(ctx, q.get('from') ?? '', q.get('to') ?? '')],
  [/^\/api\/daos$/, ctx => listDaoViews(ctx)],
  [/^\/api\/daos\/(0x[0-9a-fA-F]{40})$/, async (ctx, [address]) => daoView(ctx, address)],
  [/^\/api\/jobs$/, async ctx => listJobViews(ctx)],
  [/^\/api\/jobs\/(\d+)$/, async (ctx, [id]) => jobView(ctx, id)],
  [/^\/api\/runs\/([^/]+)$/, async (ctx, [cid]) => runView(ctx, cid)],
  [/^\/api\/disputes$/, ctx => listDisputeViews(ctx)],
  [/^\/api\/model-file-disputes$/, ctx => listModelFileDisputeViews(ctx)],
  [/^\/api\/disputes\/(\d+)$/, async (ctx, [id]) => disputeView(ctx, id)],
  [/^\/api\/accounts$/, async ctx => listAccountViews(ctx)],
  [/^\/api\/accounts\/(0x[0-9a-fA-F]{40})$/, async (ctx, [address]) => accountView(ctx, address)],
  [/^\/api\/price$/, ctx => priceView(ctx)],
  [/^\/api\/services$/, ctx => listServiceViews(ctx)],
  [/^\/api\/storage$/, ctx => listStorageDealViews(ctx)],
  [/^\/api\/channels$/, ctx => listChannelViews(ctx)],
  [/^\/api\/agents$/, async ctx => listAgentViews(ctx)]
]

function summary (ctx: ExplorerContext) {
  const count = (contract: string, name: string): number => ctx.index.events({ contract, names: [name] }).length
  return {
    chainId: ctx.deployment.chainId,
    contracts: ctx.deployment.contracts,
    indexedTo: ctx.index.meta('indexedTo') ?? null,
    datasets: listDatasetViews(ctx).length,
    daos: count('daoFactory', 'DaoCreated'),
    jobs: count('market', 'JobPosted'),
    disputes: count('disputeGame', 'DisputeOpened'),
    accounts: count('registry', 'Registered'),
    priceRounds: count('priceFeed', 'AnswerUpdated'),
    services: count('serviceRegistry', 'ServiceRegistered'),
    storageDeals: count('storageMarket', 'DealCreated'),
    channels: count('paymentChannel', 'Opened')
  }
}
