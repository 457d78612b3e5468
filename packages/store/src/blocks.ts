import { sha256 } from 'multiformats/hashes/sha2'
import { equals } from 'multiformats/bytes'
import type { Blockstore } from 'interface-blockstore'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { CorruptBlockError, VersionNotFoundError } from './errors.ts'

export type BlockReader = Pick<Blockstore, 'get' | 'has'>

/**
 * Reads one block whole and checks it against the hash in its CID, so corruption on
 * disk (or from a peer) is caught at the first read, never passed on.
 */
export async function getVerifiedBlock (blocks: BlockReader, cid: CID): Promise<Uint8Array> {
  return await checkBlock(cid, await getStoredBlock(blocks, cid))
}

/** Returns `bytes` if they hash to what `cid` names; throws CorruptBlockError if not. */
export async function checkBlock (cid: CID, bytes: Uint8Array): Promise<Uint8Array> {
  if (cid.multihash.code !== sha256.code) {
    throw new CorruptBlockError(`block ${cid} uses an unsupported hash (code ${cid.multihash.code})`, { details: { cid: cid.toString() } })
  }
  const digest = await sha256.digest(bytes)
  if (!equals(digest.digest, cid.multihash.digest)) {
    throw new CorruptBlockError(`block ${cid} does not match its hash: the store is corrupt`, {
      hint: 'run commons dataset verify to list every damaged block, then fetch them again from a peer',
      details: { cid: cid.toString() }
    })
  }
  return bytes
}

/**
 * Reads one block whole as the store holds it, without hashing it: for callers whose
 * reader checks every block anyway (a peer fetching a DAG). A missing block throws.
 */
export async function getStoredBlock (blocks: BlockReader, cid: CID): Promise<Uint8Array> {
  if (!(await blocks.has(cid))) throw missingBlockError(cid)
  const parts: Uint8Array[] = []
  for await (const part of blocks.get(cid)) parts.push(part)
  return parts.length === 1 ? parts[0] : Buffer.concat(parts)
}

/** What reading a block the store does not hold throws. */
export function missingBlockError (cid: CID): VersionNotFoundError {
  return new VersionNotFoundError(`block ${cid} is not in the store`, {
    hint: 'check the CID, or fetch the dataset from a node that has it',
    details: { cid: cid.toString() }
  })
}

/** A read-only blockstore view whose every read is hash-checked. */
export function verifyingReader (blocks: BlockReader): Pick<Blockstore, 'get'> {
  return {
    async * get (cid) {
      yield await getVerifiedBlock(blocks, cid)
    }
  }
}

/**
 * A writer that skips blocks the store already holds intact: a new version of a large
 * dataset rewrites none of its unchanged chunks. A block on disk whose bytes are not the
 * ones its CID names (damaged on disk) is written again, so a commit never reuses it.
 * Safe without a lock, since a block's name is its content.
 */
export function skipExistingWriter (blocks: Pick<Blockstore, 'put' | 'has' | 'get'>): Pick<Blockstore, 'put'> {
  return {
    async put (cid, bytes, options) {
      if (bytes instanceof Uint8Array && await blocks.has(cid) && await holds(blocks, cid, bytes)) return cid
      return blocks.put(cid, bytes, options)
    }
  }
}

/** Whether the stored block is exactly `bytes` (which the caller hashed to `cid`). */
async function holds (blocks: Pick<Blockstore, 'get'>, cid: CID, bytes: Uint8Array): Promise<boolean> {
  const parts: Uint8Array[] = []
  try {
    for await (const part of blocks.get(cid)) parts.push(part)
  } catch {
    return false
  }
  return equals(parts.length === 1 ? parts[0] : Buffer.concat(parts), bytes)
}

/** Stores bytes as one raw block (CIDv1, raw codec, sha256) and returns its CID. */
export async function putRaw (blocks: Pick<Blockstore, 'put'>, bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(raw.code, await sha256.digest(bytes))
  await blocks.put(cid, bytes)
  return cid
}
