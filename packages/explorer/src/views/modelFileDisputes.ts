import { at, type ExplorerContext } from '../context.ts'
import { shownValue } from './disputeCalls.ts'

/**
 * Model-file disputes: a published model.safetensors whose word at a weight's offset is
 * not the trainer's committed final state convicts the job in one transaction (no moves
 * to play). Each conviction with its fault, the weight (slot, element), both values,
 * and the slashes of that transaction.
 */

const FAULTS = ['none', 'wrong weight', 'truncated', 'missing', 'malformed']

export function listModelFileDisputeViews (ctx: ExplorerContext) {
  return ctx.index.events({ contract: 'modelFileDisputes', names: ['ModelFileConvicted'] }).map(e => ({
    job: String(e.args.jobId), challenger: String(e.args.challenger).toLowerCase(), number: Number(e.args.number),
    fault: FAULTS[Number(e.args.fault)] ?? String(e.args.fault), slot: String(e.args.slot), element: String(e.args.element),
    committed: shownValue(Number(e.args.committed)), inFile: shownValue(Number(e.args.inFile)),
    slashes: ctx.index.eventsOfTx(e.tx).filter(x => x.contract === 'registry' && x.name === 'Slashed').map(x => ({ node: String(x.args.node).toLowerCase(), amount: String(x.args.amount) })),
    convicted: at(e)
  }))
}
