import { hash } from 'node:crypto'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { ImporterOptions } from 'ipfs-unixfs-importer'
import * as raw from 'multiformats/codecs/raw'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'

export interface FileBuilderSettings {
  /** Power of two: a node ends a group of siblings when its hash says so, 1 time in this many. */
  averageChildren?: number
  /** Hard cap on links per node (the importer's balanced layout uses 174). */
  maxChildren?: number
  /** Block writes in flight at once. */
  writeConcurrency?: number
}

type FileBuilder = NonNullable<ImporterOptions['fileBuilder']>

interface DagNode {
  cid: CID
  /** Bytes of file content below this node. */
  fileSize: bigint
  /** Bytes of all blocks below and including this node (the link's Tsize). */
  dagSize: bigint
  unixfs?: UnixFS
}

/** sha256 CIDv1, hashed synchronously: the hot path of every import. */
function cidOf (code: number, bytes: Uint8Array): CID {
  return CID.createV1(code, Digest.create(sha256.code, hash('sha256', bytes, 'buffer')))
}

/**
 * Builds a UnixFS file from already-cut chunks: raw leaves, and internal nodes
 * grouped by content. A group of siblings ends after a node whose CID hash matches a
 * pattern, so inserting or deleting a chunk rewrites only the nodes on its path,
 * where the importer's count-based balanced layout rewrites every node after it.
 * The result is an ordinary UnixFS file that any IPFS implementation reads.
 *
 * It replaces the importer's own file builder (the importer still builds the
 * directories) because the generic one spends most of an import on per-chunk
 * bookkeeping: this one hashes synchronously and bounds writes in flight.
 */
export function contentDefinedFileBuilder (settings: FileBuilderSettings = {}): FileBuilder {
  const averageChildren = settings.averageChildren ?? 32
  const maxChildren = settings.maxChildren ?? 174
  const writeConcurrency = settings.writeConcurrency ?? 64
  const pattern = averageChildren - 1
  // At least two children per group, so every level at least halves.
  const endsGroup = (size: number, cid: CID): boolean => {
    if (size >= maxChildren) return true
    const digest = cid.multihash.digest
    return size >= 2 && (digest[digest.length - 1] & pattern) === 0
  }

  return async function buildFile (file, blocks) {
    const inFlight = new Set<Promise<void>>()
    let failure: unknown = null
    const write = async (cid: CID, bytes: Uint8Array): Promise<void> => {
      const done: Promise<void> = Promise.resolve(blocks.put(cid, bytes)).then(
        () => { inFlight.delete(done) },
        (error: unknown) => { inFlight.delete(done); failure ??= error }
      )
      inFlight.add(done)
      if (inFlight.size >= writeConcurrency) await Promise.race(inFlight)
      if (failure !== null) throw failure
    }

    const parentOf = async (children: DagNode[]): Promise<DagNode> => {
      const unixfs = new UnixFS({ type: 'file' })
      for (const child of children) unixfs.addBlockSize(child.fileSize)
      const node = dagPb.prepare({
        Data: unixfs.marshal(),
        Links: children.map(child => ({ Name: '', Hash: child.cid, Tsize: Number(child.dagSize) }))
      })
      const bytes = dagPb.encode(node)
      const cid = cidOf(dagPb.code, bytes)
      await write(cid, bytes)
      const dagSize = children.reduce((sum, child) => sum + child.dagSize, BigInt(bytes.length))
      return { cid, fileSize: unixfs.fileSize(), dagSize, unixfs }
    }

    // The tree is built as chunks arrive: groups[h] is the open group of nodes at
    // height h, closed (into a parent one level up) when endsGroup says so. This is
    // the level-by-level grouping done online, so memory holds one open group per
    // level instead of a node per chunk (a 100 GB file is 20M chunks).
    const groups: DagNode[][] = []
    const counts: number[] = []
    const add = async (node: DagNode, height: number): Promise<void> => {
      groups[height] ??= []
      counts[height] = (counts[height] ?? 0) + 1
      const group = groups[height]
      group.push(node)
      if (endsGroup(group.length, node.cid)) {
        groups[height] = []
        await add(await parentOf(group), height + 1)
      }
    }
    for await (const chunk of file.content) {
      if (chunk.length === 0) continue
      const cid = cidOf(raw.code, chunk)
      await write(cid, chunk)
      await add({ cid, fileSize: BigInt(chunk.length), dagSize: BigInt(chunk.length) }, 0)
    }
    if (counts.length === 0) {
      const empty = new Uint8Array(0)
      const cid = cidOf(raw.code, empty)
      await write(cid, empty)
      await add({ cid, fileSize: 0n, dagSize: 0n }, 0)
    }
    // A level of one node is the root; below it, each last open group gets its parent.
    let height = 0
    while (counts[height] > 1) {
      const group = groups[height]
      if (group.length > 0) {
        groups[height] = []
        await add(await parentOf(group), height + 1)
      }
      height++
    }
    const root = groups[height][0]
    await Promise.all(inFlight)
    if (failure !== null) throw failure
    return { cid: root.cid, size: root.dagSize, path: file.path, unixfs: root.unixfs, originalPath: file.originalPath }
  }
}
