import { readDispute } from '@commons/chain'
import { at, contractName, type ExplorerContext } from '../context.ts'
import { NotIndexedError } from '../errors.ts'
import { moveCall, shownValue } from './disputeCalls.ts'

/** Disputes: every move with its transaction and gas, the pinpointed op and element, the outcome and its slashes. */

const INIT_STEP = 0xffffffff

export function listDisputeViews (ctx: ExplorerContext) {
  const resolved = ctx.index.events({ contract: 'disputeGame', names: ['DisputeResolved'] })
  return ctx.index.events({ contract: 'disputeGame', names: ['DisputeOpened'] }).map(e => {
    const id = String(e.args.id)
    const end = resolved.find(r => String(r.args.id) === id)
    return {
      id, job: String(e.args.jobId), challenger: String(e.args.challenger).toLowerCase(), step: Number(e.args.step) === INIT_STEP ? 'init' : Number(e.args.step),
      winner: end === undefined ? null : end.args.challengerWon === true ? 'challenger' : 'trainer', opened: at(e)
    }
  })
}

export async function disputeView (ctx: ExplorerContext, id: string) {
  const self = listDisputeViews(ctx).find(d => d.id === id)
  if (self === undefined) throw new NotIndexedError(`no dispute ${id} was opened on this deployment's game`, { hint: 'the disputes page lists them', details: { id } })
  const moves = ctx.index.events({ contract: 'disputeGame', arg: ['id', id] })
  const pinpoint = moves.find(e => e.name === 'Pinpointed')
  const reveal = moves.find(e => e.name === 'Revealed')
  const end = moves.find(e => e.name === 'DisputeResolved')
  const live = await readDispute(ctx.clients, ctx.deployment, BigInt(id))
  // A resolution slashes in its own transaction: the registry's Slashed events there.
  const slashes = end === undefined ? [] : ctx.index.eventsOfTx(end.tx).filter(e => e.contract === 'registry' && e.name === 'Slashed').map(e => ({
    node: String(e.args.node).toLowerCase(), amount: String(e.args.amount), beneficiary: String(e.args.beneficiary).toLowerCase(), toBeneficiary: String(e.args.toBeneficiary), toTreasury: String(e.args.toTreasury)
  }))
  const pinpointCall = pinpoint === undefined ? null : await moveCall(ctx, pinpoint.tx)
  const revealCall = reveal === undefined ? null : await moveCall(ctx, reveal.tx)
  const dtype = pinpointCall !== null && 'op' in pinpointCall && pinpointCall.op?.dtype === 'i32' ? 1 : 0
  // Who was paid: every token transfer of the resolving transaction (bond back, the challenger's share, the treasury's).
  const payments = end === undefined ? [] : ctx.index.eventsOfTx(end.tx).filter(e => e.contract === 'token' && e.name === 'Transfer').map(e => ({
    from: String(e.args.from).toLowerCase(), to: String(e.args.to).toLowerCase(), amount: String(e.args.value),
    fromName: contractName(ctx, String(e.args.from)), toName: contractName(ctx, String(e.args.to))
  }))
  return {
    ...self,
    bond: String(moves[0]?.args.bond ?? '0'),
    moves: moves.map(e => ({ move: e.name, ...at(e), args: e.name === 'OpTracePosted' ? { roots: (e.args.roots as unknown[]).length } : e.args })),
    pinpointed: pinpoint === undefined
      ? null
      : {
          op: Number(pinpoint.args.opIndex), element: Number(pinpoint.args.element), expected: Number(pinpoint.args.expected), outputRoot: String(pinpoint.args.outputRoot),
          // The op's name, shape and inputs, and the input elements the verifier read: from the move's calldata.
          call: pinpointCall
        },
    claims: reveal === undefined
      ? null
      : { trainer: Number(reveal.args.committed), challenger: Number(reveal.args.expected), trainerValue: shownValue(Number(reveal.args.committed), dtype), challengerValue: shownValue(Number(reveal.args.expected), dtype), revealed: revealCall },
    outcome: { resolved: live.resolved, winner: live.winner, reason: live.reasonName, phase: live.phaseName, ...(end === undefined ? {} : { resolvedIn: at(end) }) },
    slashes,
    payments
  }
}
