import type { Hex } from 'viem'
import { disputeGameAbi, eventsInRanges, readDispute, type Clients, type Deployment, type Move } from '@commons/chain'

/**
 * The disputes of some jobs as the chain tells them, with every move's gas: what a
 * summary reports, read from the chain rather than from a node's memory, which may lag
 * behind the chain (a node records an outcome after its queued log queries).
 */

export interface DisputeRecord {
  id: bigint
  jobId: bigint
  step: number
  challenger: string
  resolved: boolean
  winner: 'challenger' | 'trainer' | null
  reason: string
  open: Move
  moves: Move[]
}

const MOVES = { OpTracePosted: 'postOpTrace', Pinpointed: 'pinpoint', Revealed: 'reveal', DisputeOpened: 'open' } as const

export async function disputesOf (clients: Clients, deployment: Deployment, jobIds: bigint[], range = 1000n): Promise<DisputeRecord[]> {
  const wanted = new Set(jobIds.map(String))
  const byId = new Map<string, DisputeRecord>()
  const head = await clients.public.getBlockNumber()
  const game = deployment.contracts.disputeGame
  for await (const window of eventsInRanges(clients, { address: game, abi: disputeGameAbi, fromBlock: BigInt(deployment.block), toBlock: head, range })) {
    for (const event of window.events) {
      const name = event.eventName as keyof typeof MOVES
      if (!(name in MOVES)) continue
      const args = event.args as { id: bigint, jobId?: bigint, step?: number, challenger?: string }
      const gas = (await clients.public.getTransactionReceipt({ hash: event.transactionHash as Hex })).gasUsed
      if (name === 'DisputeOpened') {
        if (!wanted.has(String(args.jobId))) continue
        const d = await readDispute(clients, deployment, args.id)
        byId.set(String(args.id), {
          id: args.id, jobId: args.jobId as bigint, step: Number(args.step), challenger: String(args.challenger), resolved: d.resolved,
          winner: d.winner, reason: d.reasonName, open: { name: 'open', gas }, moves: []
        })
        continue
      }
      byId.get(String(args.id))?.moves.push({ name: MOVES[name], gas })
    }
  }
  return [...byId.values()]
}
