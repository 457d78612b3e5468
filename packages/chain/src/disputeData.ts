import { hexBytes } from '@commons/protocol'
import { decodeEventLog, type Address, type Hex } from 'viem'
import { send, type Clients } from './clients.ts'
import type { Deployment } from './deploy.ts'
import { DisputeError } from './dispute.ts'
import { commonsTokenAbi, disputeGameAbi } from './generated/contracts.ts'
import type { Revealed } from './valuesWalk.ts'
import { latestContractEvents } from './logs.ts'

/**
 * What the data-availability moves put on chain (docs/step-program.md): the values a
 * trainer revealed on request, and transcript records by query.
 */

/** The values the trainer last revealed in dispute `id` (ValuesProvided), if any. */
export async function revealedValues (clients: Clients, deployment: Deployment, id: bigint, game: Address = deployment.contracts.disputeGame): Promise<(Revealed & { op: number }) | undefined> {
  // The newest window with any holds the last reveal: one request on a capped provider, not a scan from genesis.
  // InferenceDisputes emits the same event (its types extend the training game's): `game` names which.
  const events = await latestContractEvents(clients, { address: game, abi: disputeGameAbi, eventName: 'ValuesProvided', args: { id }, fromBlock: BigInt(deployment.block) })
  const last = events.at(-1)?.args
  if (last?.words === undefined || last.siblings === undefined) return undefined
  const bytes = hexBytes(last.words)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const words = Array.from({ length: bytes.length / 4 }, (_, k) => view.getUint32(4 * k))
  return { op: Number(last.opIndex), firstLeaf: Number(last.firstLeaf), words, siblings: last.siblings.map(hexBytes) }
}

/**
 * Queries transcript records of a submitted job (DisputeGame.openQuery), paying the
 * query bond: for a challenger whose trainer did not publish its transcript.
 */
export async function queryRecords (clients: Clients, deployment: Deployment, jobId: bigint, indices: number[]): Promise<bigint> {
  const game = deployment.contracts.disputeGame
  const bond = await clients.public.readContract({ address: game, abi: disputeGameAbi, functionName: 'queryBond' })
  await send(clients, { address: deployment.contracts.token, abi: commonsTokenAbi, functionName: 'approve', args: [game, bond] })
  const receipt = await send(clients, { address: game, abi: disputeGameAbi, functionName: 'openQuery', args: [jobId, indices] })
  for (const log of receipt.logs) {
    try {
      const event = decodeEventLog({ abi: disputeGameAbi, data: log.data, topics: log.topics })
      if (event.eventName === 'RecordsQueried') return event.args.id
    } catch {}
  }
  throw new DisputeError('no RecordsQueried event in the receipt')
}

/** A transcript record a trainer posted in answer to a query, with its proof against the transcript root. */
export interface PostedRecord {
  index: number
  state: Hex
  lossBits: number
  /** Sibling hashes from the record's leaf to the transcript root, as postRecords checked them. */
  proof: Hex[]
}

/**
 * The records a trainer posted in answer to query `id` (RecordsPosted), if it has, with
 * their proofs: all in the event, so a trainer answering through a contract wallet or an
 * EIP-7702 account (no postRecords calldata of its own) is read as well (checkPosted
 * checks what is read against the transcript root).
 */
export async function postedRecords (clients: Clients, deployment: Deployment, id: bigint): Promise<PostedRecord[] | undefined> {
  // A query is answered once: its one event is the newest of its kind.
  const events = await latestContractEvents(clients, { address: deployment.contracts.disputeGame, abi: disputeGameAbi, eventName: 'RecordsPosted', args: { id }, fromBlock: BigInt(deployment.block) })
  const { indices, records, proofs } = events[0]?.args ?? {}
  if (indices === undefined || records === undefined || proofs === undefined) return undefined
  return indices.map((index, i) => ({ index, state: records[i].state, lossBits: records[i].lossBits, proof: [...proofs[i]] }))
}
