import { listFiles, readVersion, readVersionFile } from '@commons/store'
import { readJob } from '@commons/chain'
import { at, cidString, type ExplorerContext } from '../context.ts'
import { NotIndexedError } from '../errors.ts'
import { parseCid, present } from './datasets.ts'

/** Training jobs: terms and timeline from the index, status read live, the run's content by CID. */

export async function listJobViews (ctx: ExplorerContext) {
  const claims = ctx.index.events({ contract: 'market', names: ['JobClaimed'] })
  return Promise.all(ctx.index.events({ contract: 'market', names: ['JobPosted'] }).map(async e => {
    const id = String(e.args.jobId)
    const claim = claims.filter(c => String(c.args.jobId) === id).at(-1)
    return {
      id, requester: String(e.args.requester).toLowerCase(), dataset: cidString(e.args.datasetCid), reward: String(e.args.reward),
      steps: Number(e.args.steps), trainer: claim === undefined ? null : String(claim.args.trainer).toLowerCase(), status: await statusOf(ctx, BigInt(id)), posted: at(e)
    }
  }))
}

async function statusOf (ctx: ExplorerContext, id: bigint): Promise<string> {
  return (await readJob(ctx.clients, ctx.deployment, id)).statusName
}

export async function jobView (ctx: ExplorerContext, id: string) {
  const posted = ctx.index.events({ contract: 'market', names: ['JobPosted'], arg: ['jobId', id] })[0]
  if (posted === undefined) throw new NotIndexedError(`no job ${id} was posted to this deployment's market`, { hint: 'the jobs page lists them', details: { id } })
  const market = ctx.index.events({ contract: 'market', arg: ['jobId', id] })
  const games = ctx.index.events({ contract: 'disputeGame', names: ['DisputeOpened', 'DisputeResolved'], arg: ['jobId', id] })
  const funders = ctx.index.events({ contract: 'dao', names: ['JobFunded'], arg: ['jobId', id] }).map(e => e.address)
  const result = market.filter(e => e.name === 'ResultSubmitted').at(-1)
  const a = posted.args
  return {
    id,
    status: await statusOf(ctx, BigInt(id)),
    terms: {
      dataset: cidString(a.datasetCid), recipe: cidString(a.recipeCid), programHash: String(a.programHash), tokensRoot: String(a.tokensRoot),
      seed: String(a.seed), steps: Number(a.steps), reward: String(a.reward), jobStake: String(a.jobStake)
    },
    requester: String(a.requester).toLowerCase(),
    fundedBy: funders.length > 0 ? { dao: funders[0] } : { requester: String(a.requester).toLowerCase() },
    trainer: market.filter(e => e.name === 'JobClaimed').map(e => String(e.args.trainer).toLowerCase()).at(-1) ?? null,
    validators: market.filter(e => e.name === 'Attested').map(e => String(e.args.validator).toLowerCase()),
    result: result === undefined ? null : { run: cidString(result.args.modelCid), transcriptRoot: String(result.args.transcriptRoot), steps: Number(result.args.steps), ...at(result) },
    disputes: games.filter(e => e.name === 'DisputeOpened').map(e => String(e.args.id)),
    timeline: [...market, ...games].sort((x, y) => x.block - y.block || x.logIndex - y.logIndex).map(e => ({ event: e.contract === 'disputeGame' ? `game ${e.name}` : e.name, ...at(e), args: e.args }))
  }
}

/** The run's loss per step, from transcript.jsonl of the run's version (every block checked), and its files. */
export async function runView (ctx: ExplorerContext, run: string) {
  const cid = parseCid(run)
  await present(ctx, cid)
  const version = await readVersion(ctx.content.blocks, cid)
  const files = (await listFiles(ctx.content.blocks, version.tree)).map(f => ({ path: f.path, size: f.size, cid: f.cid.toString() }))
  const text = (await readVersionFile(ctx.content.blocks, cid, 'transcript.jsonl')).toString('utf8')
  const loss = text.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as { step: number, loss: number | string })
    .map(r => ({ step: r.step, loss: typeof r.loss === 'string' ? Number(r.loss) : r.loss }))
  return {
    run: cid.toString(),
    loss: loss.map(r => ({ step: r.step, loss: Number.isFinite(r.loss) ? r.loss : null })),
    files,
    checkpoints: files.filter(f => f.path.startsWith('checkpoints/')).map(f => f.path)
  }
}
