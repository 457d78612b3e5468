import { repriceWaiting, TransactionNotMinedError, transactionsOutcome, type Clients } from '@commons/chain'
import type { Hex } from 'viem'

/**
 * A send held back: a move that must never be sent twice (a dispute's open: a second
 * bond; a records query: a second bond, paid to the trainer) whose transaction was not
 * mined in its wait. Every copy sent of it, and the nonce they share (from the
 * TransactionNotMinedError). Kept in the job's state, so a restart looks at it too.
 */
export interface HeldSend { hashes: Hex[], nonce?: number }

/** The send `error` holds back: a transaction not mined in its wait that may still be, with its nonce; undefined for any other error. */
export function heldSendOf (error: unknown): HeldSend | undefined {
  if (!(error instanceof TransactionNotMinedError) || error.details?.nonce === undefined) return undefined
  return { hashes: (error.details.hashes ?? [error.details.hash]) as Hex[], nonce: Number(error.details.nonce) }
}

export interface LookOptions {
  /** Told the held send with a new copy's hash, before the copy is sent. */
  onCopy: (next: HeldSend) => void
  log: (line: string) => void
}

/**
 * What became of a held send, looked at again:
 * - 'landed': a copy was mined and succeeded;
 * - 'pending': a copy is still in the chain's pool (sent again at its nonce if a block
 *   would no longer take it at its price: repriceWaiting);
 * - 'nonce held': unknown to the chain, but its nonce is held in the pool by a transaction
 *   not known as it (a copy whose send lost its answer): not to be sent anew beside it;
 * - 'gone': mined and reverted, or dropped with its nonce free: it may be sent anew.
 * Throws when the chain does not answer: nothing is taken for gone then.
 */
export async function lookAtHeldSend (clients: Clients, held: HeldSend, options: LookOptions): Promise<'landed' | 'pending' | 'nonce held' | 'gone'> {
  const outcome = await transactionsOutcome(clients, held.hashes)
  if (outcome === 'succeeded') return 'landed'
  if (outcome === 'pending') {
    const copy = await repriceWaiting(clients, held.hashes, { onSigned: hash => { options.onCopy({ ...held, hashes: [...held.hashes, hash] }) } })
      .catch((error: Error) => { options.log(`sending it again at a higher fee failed (${error.message})`) })
    if (copy !== undefined) options.log(`priced under what a block takes now: sent again at a higher fee (${copy})`)
    return 'pending'
  }
  if (outcome === 'unknown' && held.nonce !== undefined) {
    const address = clients.account.address
    const [mined, pending] = await Promise.all([
      clients.public.getTransactionCount({ address, blockTag: 'latest' }),
      clients.public.getTransactionCount({ address, blockTag: 'pending' })
    ])
    if (mined <= held.nonce && pending > held.nonce) return 'nonce held'
  }
  return 'gone'
}
