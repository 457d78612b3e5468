import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { Blockstore } from 'interface-blockstore'
import { getVerifiedBlock, type BlockReader } from './blocks.ts'
import { InvalidCidError, NotAVersionError } from './errors.ts'

/**
 * A version of a dataset: a dag-cbor block, like a git commit. Its CID is the
 * version id; the same content, parents, message, author and time give the same CID
 * on every machine.
 */
export interface Version {
  parents: CID[]
  /** Root of a UnixFS directory holding the files. */
  tree: CID
  message: string
  author: string
  /** Seconds since the Unix epoch. */
  time: number
}

export async function putVersion (blocks: Pick<Blockstore, 'put'>, version: Version): Promise<CID> {
  const bytes = dagCbor.encode(version)
  const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
  await blocks.put(cid, bytes)
  return cid
}

/** Parses a CID typed by a user, with an error that says what to do. */
export function parseCid (text: string): CID {
  try {
    return CID.parse(text.trim())
  } catch (cause) {
    throw new InvalidCidError(`"${text}" is not a valid CID`, {
      hint: 'version ids look like bafyrei...; run commons dataset log NAME to list them',
      details: { text },
      cause
    })
  }
}

function isVersion (value: unknown): value is Version {
  const v = value as Partial<Version> | null
  return v !== null && typeof v === 'object' && Array.isArray(v.parents) &&
    v.parents.every(p => CID.asCID(p) !== null) && CID.asCID(v.tree) !== null &&
    typeof v.message === 'string' && typeof v.author === 'string' && typeof v.time === 'number'
}

/** Reads and hash-checks a version block. */
export async function readVersion (blocks: BlockReader, cid: CID): Promise<Version> {
  if (cid.code !== dagCbor.code) {
    throw new NotAVersionError(`${cid} is not a dataset version (it is not dag-cbor)`, {
      hint: 'pass the CID that commons dataset commit or log printed',
      details: { cid: cid.toString() }
    })
  }
  const value: unknown = dagCbor.decode(await getVerifiedBlock(blocks, cid))
  if (!isVersion(value)) {
    throw new NotAVersionError(`${cid} is a dag-cbor block but not a dataset version`, { details: { cid: cid.toString() } })
  }
  return value
}
