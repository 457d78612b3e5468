import { InvalidCidError } from '@commons/store'
import { createUnsafe } from 'multiformats/block'
import { CID } from 'multiformats/cid'
import type { CodecLoader } from '@helia/interface'
import type { Blockstore } from 'interface-blockstore'
import { DEFAULT_FETCH_TIMEOUT_MS, FETCH_CONCURRENCY } from './constants.ts'
import { FetchError } from './errors.ts'

export interface FetchDagComponents {
  /**
   * A blockstore that fetches what it lacks and verifies it against its CID before
   * storing it (Helia's networked blockstore does both).
   */
  blockstore: Pick<Blockstore, 'get'>
  getCodec: CodecLoader
}

export interface FetchDagOptions {
  /** Cancels the whole fetch; the error thrown is the signal's reason. */
  signal?: AbortSignal
  /**
   * How long any one block may take to arrive (default 30 s). A stall limit, not a
   * limit on the whole fetch, so a large dataset over a slow link still completes.
   */
  timeoutMs?: number
}

export interface FetchDagResult {
  /** Blocks reachable from the root, each counted once. */
  blocks: number
  /** Their total size in bytes. */
  bytes: number
}

/**
 * Brings every block reachable from `root` into the local blockstore, walking links
 * of any codec the node knows (dag-cbor commits, dag-pb trees, raw leaves). Blocks
 * already held are read locally; the rest are wanted from connected peers, a few
 * dozen at a time. The first block that cannot be had stops the walk.
 */
export async function fetchDag (components: FetchDagComponents, root: CID | string, options: FetchDagOptions = {}): Promise<FetchDagResult> {
  const rootCid = parseRoot(root)
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS
  const stop = new AbortController()
  const result: FetchDagResult = { blocks: 0, bytes: 0 }
  const seen = new Set<string>([rootCid.toString()])
  const queue: CID[] = [rootCid]
  const inFlight = new Set<Promise<void>>()
  let failure: { error: unknown } | null = null

  const visit = async (cid: CID): Promise<void> => {
    const signals = [stop.signal, AbortSignal.timeout(timeoutMs)]
    if (options.signal !== undefined) signals.push(options.signal)
    const bytes = await getBlock(components, cid, AbortSignal.any(signals), rootCid, timeoutMs, options.signal)
    result.blocks++
    result.bytes += bytes.length
    const codec = await loadCodec(components, cid, rootCid)
    for (const [, link] of createUnsafe({ cid, bytes, codec }).links()) {
      const key = link.toString()
      if (seen.has(key)) continue
      seen.add(key)
      queue.push(link)
    }
  }

  while (queue.length > 0 || inFlight.size > 0) {
    while (failure === null && queue.length > 0 && inFlight.size < FETCH_CONCURRENCY) {
      const task: Promise<void> = visit(queue.pop() as CID)
        .catch((error: unknown) => {
          failure ??= { error }
          stop.abort()
        })
        .finally(() => inFlight.delete(task))
      inFlight.add(task)
    }
    if (inFlight.size === 0) break
    await Promise.race(inFlight)
  }
  if (failure !== null) throw (failure as { error: unknown }).error
  return result
}

async function getBlock (
  components: FetchDagComponents, cid: CID, signal: AbortSignal, root: CID, timeoutMs: number, callerSignal?: AbortSignal
): Promise<Uint8Array> {
  try {
    const parts: Uint8Array[] = []
    for await (const part of components.blockstore.get(cid, { signal })) parts.push(part)
    return parts.length === 1 ? parts[0] : Buffer.concat(parts)
  } catch (cause) {
    if (callerSignal?.aborted === true) throw callerSignal.reason
    const what = cid.equals(root) ? `${root}` : `block ${cid} of ${root}`
    throw new FetchError(`could not fetch ${what} within ${timeoutMs} ms`, {
      hint: 'connect to a peer that holds this dataset (its copy must be intact: blocks that do not match their CID are refused), or raise the timeout',
      details: { cid: cid.toString(), root: root.toString(), timeoutMs },
      cause
    })
  }
}

async function loadCodec (components: FetchDagComponents, cid: CID, root: CID): Promise<Awaited<ReturnType<CodecLoader>>> {
  try {
    return await components.getCodec(cid.code)
  } catch (cause) {
    throw new FetchError(`block ${cid} of ${root} uses codec 0x${cid.code.toString(16)}, which this node cannot read`, {
      hint: 'a dataset is made of dag-cbor, dag-pb and raw blocks; check that the CID names a dataset version',
      details: { cid: cid.toString(), root: root.toString(), code: cid.code },
      cause
    })
  }
}

/** A root as a CID; a string that is not one is an `InvalidCidError`. */
export function parseRoot (root: CID | string): CID {
  if (typeof root !== 'string') return root
  try {
    return CID.parse(root.trim())
  } catch (cause) {
    throw new InvalidCidError(`"${root}" is not a valid CID`, {
      hint: 'version ids look like bafyrei...; run commons dataset log NAME to list them',
      details: { ref: root },
      cause
    })
  }
}
