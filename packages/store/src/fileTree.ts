import { hash } from 'node:crypto'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import * as raw from 'multiformats/codecs/raw'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { encodeFileNode } from './fileNode.ts'

export interface FileTreeSettings {
  /** Power of two: a node ends a group of siblings when its hash says so, 1 time in this many. */
  averageChildren?: number
  /** Hard cap on links per node (the importer's balanced layout uses 174). */
  maxChildren?: number
}

export interface DagNode {
  cid: CID
  /** Bytes of file content below this node. */
  fileSize: bigint
  /** Bytes of all blocks below and including this node (the link's Tsize). */
  dagSize: bigint
  unixfs?: UnixFS
}

/** Stores one block; may resolve before it reaches the disk (the caller flushes). */
export type WriteBlock = (cid: CID, bytes: Uint8Array) => Promise<void>

/** sha256 CIDv1, hashed synchronously: the hot path of every import. */
export function cidOf (code: number, bytes: Uint8Array): CID {
  return CID.createV1(code, Digest.create(sha256.code, hash('sha256', bytes, 'buffer')))
}

/**
 * The content-defined tree of one UnixFS file, built as its leaves arrive in order:
 * raw leaves, internal nodes grouped by content. A group of siblings ends after a
 * node whose CID hash matches a pattern, so inserting or deleting a chunk rewrites
 * only the nodes on its path, where a count-based balanced layout rewrites every
 * node after it.
 *
 * groups[h] is the open group of nodes at height h, closed (into a parent one level
 * up) when endsGroup says so: the level-by-level grouping done online, so memory holds
 * one open group per level instead of a node per chunk (a 100 GB file is 20M chunks).
 */
export class FileTree {
  readonly #write: WriteBlock
  readonly #maxChildren: number
  readonly #pattern: number
  readonly #groups: DagNode[][] = []
  readonly #counts: number[] = []

  constructor (write: WriteBlock, settings: FileTreeSettings = {}) {
    this.#write = write
    this.#maxChildren = settings.maxChildren ?? 174
    this.#pattern = (settings.averageChildren ?? 32) - 1
  }

  /**
   * Adds the next leaf (a raw block the caller has written). Returns a promise only
   * when the leaf closes a group (a parent node is written): a caller adding many
   * leaves awaits those alone.
   */
  addLeaf (cid: CID, size: number): Promise<void> | undefined {
    return this.#add({ cid, fileSize: BigInt(size), dagSize: BigInt(size) }, 0)
  }

  /** Closes every open group; returns the file's root (the empty raw block for an empty file). */
  async finish (): Promise<DagNode> {
    if (this.#counts.length === 0) {
      const empty = new Uint8Array(0)
      const cid = cidOf(raw.code, empty)
      await this.#write(cid, empty)
      await this.#add({ cid, fileSize: 0n, dagSize: 0n }, 0)
    }
    // A level of one node is the root; below it, each last open group gets its parent.
    let height = 0
    while (this.#counts[height] > 1) {
      const group = this.#groups[height]
      if (group.length > 0) {
        this.#groups[height] = []
        await this.#add(await this.#parentOf(group), height + 1)
      }
      height++
    }
    return this.#groups[height][0]
  }

  /** At least two children per group, so every level at least halves. */
  #endsGroup (size: number, cid: CID): boolean {
    if (size >= this.#maxChildren) return true
    const digest = cid.multihash.digest
    return size >= 2 && (digest[digest.length - 1] & this.#pattern) === 0
  }

  #add (node: DagNode, height: number): Promise<void> | undefined {
    this.#groups[height] ??= []
    this.#counts[height] = (this.#counts[height] ?? 0) + 1
    const group = this.#groups[height]
    group.push(node)
    if (!this.#endsGroup(group.length, node.cid)) return undefined
    this.#groups[height] = []
    return this.#close(group, height)
  }

  async #close (group: DagNode[], height: number): Promise<void> {
    await this.#add(await this.#parentOf(group), height + 1)
  }

  async #parentOf (children: DagNode[]): Promise<DagNode> {
    const unixfs = new UnixFS({ type: 'file' })
    for (const child of children) unixfs.addBlockSize(child.fileSize)
    const bytes = encodeFileNode(unixfs.marshal(), children.map(child => ({ cid: child.cid, tsize: Number(child.dagSize) })))
    const cid = cidOf(dagPb.code, bytes)
    await this.#write(cid, bytes)
    const dagSize = children.reduce((sum, child) => sum + child.dagSize, BigInt(bytes.length))
    return { cid, fileSize: unixfs.fileSize(), dagSize, unixfs }
  }
}

/**
 * Writes blocks with at most `concurrency` in flight; `drain` waits for all of them
 * and throws the first failure.
 */
export function boundedWriter (put: (cid: CID, bytes: Uint8Array) => unknown, concurrency: number): { write: WriteBlock, drain: () => Promise<void> } {
  const inFlight = new Set<Promise<void>>()
  let failure: unknown = null
  const write = async (cid: CID, bytes: Uint8Array): Promise<void> => {
    const done: Promise<void> = Promise.resolve(put(cid, bytes)).then(
      () => { inFlight.delete(done) },
      (error: unknown) => { inFlight.delete(done); failure ??= error }
    )
    inFlight.add(done)
    if (inFlight.size >= concurrency) await Promise.race(inFlight)
    if (failure !== null) throw failure
  }
  const drain = async (): Promise<void> => {
    await Promise.all(inFlight)
    if (failure !== null) throw failure
  }
  return { write, drain }
}
