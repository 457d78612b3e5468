import { CID } from 'multiformats/cid'
import { create } from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { hexToBytes, type Hex } from 'viem'
import { at, type ExplorerContext } from '../context.ts'

/** Storage deals: the version each one keeps, its escrow, the providers in its slots, proofs made and missed. */

const DAG_CBOR = 0x71

/** A deal names its version by the commit's sha256 digest: the version CID is dag-cbor over it. */
function versionCid (digest: unknown): string | null {
  try {
    return CID.createV1(DAG_CBOR, create(sha256.code, hexToBytes(String(digest) as Hex))).toString()
  } catch {
    return null
  }
}

export function listStorageDealViews (ctx: ExplorerContext) {
  const events = ctx.index.events({ contract: 'storageMarket' })
  return events.filter(e => e.name === 'DealCreated').map(e => {
    const id = String(e.args.dealId)
    const of = events.filter(x => String(x.args.dealId) === id)
    const count = (name: string): number => of.filter(x => x.name === name).length
    return {
      id, funder: String(e.args.funder).toLowerCase(), version: versionCid(e.args.version), escrow: String(e.args.escrow),
      providers: [...new Set(of.filter(x => x.name === 'SlotTaken').map(x => String(x.args.provider).toLowerCase()))],
      proofs: count('Proven'), missed: count('Missed'),
      paid: of.filter(x => x.name === 'Proven').reduce((sum, x) => sum + BigInt(String(x.args.paid)), 0n).toString(),
      slashed: of.filter(x => x.name === 'Missed').reduce((sum, x) => sum + BigInt(String(x.args.slashed)), 0n).toString(),
      created: at(e)
    }
  })
}
