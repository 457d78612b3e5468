import { createReadStream } from 'node:fs'
import { resolve } from 'node:path'
import { CarBlockIterator } from '@ipld/car/iterator'
import { equals } from 'multiformats/bytes'
import { sha256 } from 'multiformats/hashes/sha2'
import type { CID } from 'multiformats/cid'
import type { Store } from './store.ts'
import { skipExistingWriter } from './blocks.ts'
import { InvalidCarError, UnreadableFileError } from './errors.ts'
import { walkDag } from './walkDag.ts'

export interface ImportCarOptions {
  /** Called after each block stored, with the running totals. */
  onProgress?: (blocks: number, bytes: number) => void
}

export interface ImportCarResult {
  roots: CID[]
  /** Blocks in the CAR, each checked against its CID. */
  blocks: number
  bytes: number
  /**
   * Blocks reachable from the roots that neither the CAR nor the store held: 0 for a
   * complete DAG (what `commons dataset export --car` writes). A partial CAR is legal.
   */
  missing: number
}

/**
 * Reads a CAR file (v1 or v2) block by block from disk into the store: memory stays
 * bounded by one block whatever the file's size. Every block is hashed against its
 * CID before it is stored; the first that does not match stops the import with
 * `InvalidCarError` (blocks already stored are intact, since each was checked).
 * Afterwards the roots are walked to count what is still missing.
 */
export async function importCar (store: Store, file: string, options: ImportCarOptions = {}): Promise<ImportCarResult> {
  const path = resolve(file)
  const source = createReadStream(path)
  const opened = await new Promise<void>((ok, fail) => {
    source.once('open', () => { ok() })
    source.once('error', fail)
  }).then(() => null, (error: NodeJS.ErrnoException) => error)
  if (opened !== null) {
    throw new UnreadableFileError(`cannot read ${path} (${opened.code})`, {
      hint: 'check the path of the CAR file', details: { file: path }, cause: opened
    })
  }
  const writer = skipExistingWriter(store.blocks)
  let blocks = 0
  let bytes = 0
  let roots: CID[]
  try {
    const iterator = await CarBlockIterator.fromIterable(source)
    roots = await iterator.getRoots()
    for await (const block of iterator) {
      await checkBlock(block.cid, block.bytes, path)
      await writer.put(block.cid, block.bytes)
      blocks++
      bytes += block.bytes.length
      options.onProgress?.(blocks, bytes)
    }
  } catch (error) {
    if (error instanceof InvalidCarError) throw error
    throw new InvalidCarError(`${path} is not a readable CAR file (stopped after ${blocks} blocks): ${(error as Error).message}`, {
      hint: 'the file is truncated or not a CAR; export it again (commons dataset export CID --car FILE, or ipfs dag export CID)',
      details: { file: path, blocks },
      cause: error
    })
  } finally {
    source.destroy()
  }
  const walk = await walkDag(store.blocks, roots)
  return { roots, blocks, bytes, missing: walk.missing.length + walk.corrupt.length }
}

async function checkBlock (cid: CID, bytes: Uint8Array, file: string): Promise<void> {
  if (cid.multihash.code !== sha256.code) {
    throw new InvalidCarError(`block ${cid} in ${file} uses hash function 0x${cid.multihash.code.toString(16)}; only sha2-256 is read`, {
      hint: 'export the DAG with sha2-256 CIDs (the IPFS default)', details: { file, cid: cid.toString() }
    })
  }
  const digest = await sha256.digest(bytes)
  if (!equals(digest.digest, cid.multihash.digest)) {
    throw new InvalidCarError(`block ${cid} in ${file} does not match its CID: the CAR is corrupt`, {
      hint: 'nothing damaged was stored; fetch or export the CAR again',
      details: { file, cid: cid.toString() }
    })
  }
}
