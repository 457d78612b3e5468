import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { getVerifiedBlock, type BlockReader } from '@commons/store'
import { readVersionBlock } from './storageProof.ts'
import { ModelFileError } from './errors.ts'

/** The file every run holds at the top of its tree: S_T's parameters (ModelFileDisputes.sol). */
export const MODEL_FILE = 'model.safetensors'

/** One leaf of a file and the dag-pb file nodes above it (ModelFileReader.Segment). */
export interface FileSegment {
  nodes: Uint8Array[]
  leaf: Uint8Array
}

/** The file side of a model-file claim (ModelFileDisputes.FileProof). */
export interface ModelFileProof {
  commit: Uint8Array
  tree: Uint8Array
  /** The leaves holding bytes [0, 8): the header length. */
  head: FileSegment[]
  /** The leaves holding the element's 4 bytes (none when they lie in the header's last leaf). */
  word: FileSegment[]
  /** What the walk found: the word as committed (little-endian bytes as a number), or why none. */
  found: { word: number } | { fault: 'missing' | 'truncated' | 'malformed' }
}

/** The blocksizes (field 4) of a UnixFS Data message; the reader's rules are the contract's. */
function blockSizes (data: Uint8Array | undefined): bigint[] | null {
  if (data === undefined || data[0] !== 0x08 || data[1] !== 0x02) return null
  const sizes: bigint[] = []
  let p = 2
  const varint = (): bigint => {
    let v = 0n
    for (let i = 0; i < 9; i++) {
      const c = data[p++]
      if (c === undefined) throw new ModelFileError('a UnixFS varint runs past its block')
      v |= BigInt(c & 0x7f) << BigInt(7 * i)
      if (c < 0x80) return v
    }
    throw new ModelFileError('a UnixFS varint is too long')
  }
  while (p < data.length) {
    const tag = data[p++]
    if (tag === 0x12) { if (varint() !== 0n) return null } else if (tag === 0x18) varint()
    else if (tag === 0x20) sizes.push(varint())
    else return null
  }
  return sizes
}

type Status = 'ok' | 'past-end' | 'malformed'

/**
 * The leaf holding byte `pos` of the file `file`, with its path and where it starts; or,
 * with the blocks that show it, 'past-end' when the file is shorter and 'malformed' when
 * a block breaks the layout (the walk of ModelFileReader.sol).
 */
async function leafAt (blocks: BlockReader, file: CID, pos: bigint): Promise<{ segment: FileSegment, start: bigint, status: Status }> {
  const nodes: Uint8Array[] = []
  const segment = (leaf: Uint8Array = new Uint8Array(0)): FileSegment => ({ nodes, leaf })
  let cid = file
  let start = 0n
  let size: bigint | undefined
  for (;;) {
    if (cid.code !== raw.code && cid.code !== dagPb.code) return { segment: segment(), start, status: 'malformed' }
    const bytes = await getVerifiedBlock(blocks, cid)
    if (cid.code === raw.code) {
      const length = BigInt(bytes.length)
      const status = size === undefined ? (pos < length ? 'ok' : 'past-end') : (length === size ? 'ok' : 'malformed')
      return { segment: segment(bytes), start, status }
    }
    nodes.push(bytes)
    const node = dagPb.decode(bytes)
    const sizes = blockSizes(node.Data)
    const total = sizes?.reduce((a, b) => a + b, 0n)
    if (sizes === null || total === undefined || sizes.length !== node.Links.length || (size !== undefined && total !== size)) return { segment: segment(), start, status: 'malformed' }
    if (pos - start >= total) return { segment: segment(), start, status: 'past-end' }
    let at = start
    const index = sizes.findIndex(s => {
      if (pos < at + s) return true
      at += s
      return false
    })
    start = at
    size = sizes[index]
    cid = node.Links[index].Hash
  }
}

/** Bytes [from, from + count) of a file and the segments that prove them (or why not). */
async function readBytes (blocks: BlockReader, file: CID, from: bigint, count: number): Promise<{ bytes: Uint8Array, segments: FileSegment[], status: Status, lastStart: bigint }> {
  const bytes = new Uint8Array(count)
  const segments: FileSegment[] = []
  let leaf: { segment: FileSegment, start: bigint } | undefined
  for (let k = 0; k < count; k++) {
    const pos = from + BigInt(k)
    if (leaf === undefined || pos >= leaf.start + BigInt(leaf.segment.leaf.length)) {
      const found = await leafAt(blocks, file, pos)
      segments.push(found.segment)
      if (found.status !== 'ok') return { bytes, segments, status: found.status, lastStart: found.start }
      leaf = found
    }
    bytes[k] = leaf.segment.leaf[Number(pos - leaf.start)]
  }
  return { bytes, segments, status: 'ok', lastStart: leaf?.start ?? 0n }
}

/** A run's commit and tree (what every file proof starts with), and the link of its model file if it has one. */
async function modelFileOf (blocks: BlockReader, run: CID): Promise<{ base: Omit<ModelFileProof, 'found'>, link: dagPb.PBLink | undefined }> {
  const { commit, tree } = await readVersionBlock(blocks, run)
  const treeBytes = await getVerifiedBlock(blocks, tree)
  const link = dagPb.decode(treeBytes).Links.find(l => l.Name === MODEL_FILE)
  return { base: { commit, tree: treeBytes, head: [], word: [] }, link }
}

/**
 * Builds the file side of a claim that parameter word `paramOffset` (Σ lengths of the
 * slots before, plus the element) of a run's model file is not S_T's: the run's commit
 * and tree, and the leaves of the header length and of the word, each with its path.
 */
export async function buildModelFileProof (blocks: BlockReader, run: CID, paramOffset: bigint): Promise<ModelFileProof> {
  const { base, link } = await modelFileOf(blocks, run)
  if (link === undefined) return { ...base, found: { fault: 'missing' } }
  const fault = (status: Status): ModelFileProof['found'] => ({ fault: status === 'past-end' ? 'truncated' : 'malformed' })
  const head = await readBytes(blocks, link.Hash, 0n, 8)
  if (head.status !== 'ok') return { ...base, head: head.segments, found: fault(head.status) }
  const headerLength = Buffer.from(head.bytes).readBigUInt64LE(0)
  const pos = 8n + headerLength + 4n * paramOffset
  const word = await readBytes(blocks, link.Hash, pos, 4)
  const found = word.status === 'ok' ? { word: Buffer.from(word.bytes).readUInt32LE(0) } : fault(word.status)
  // A word inside the header's last leaf is read from it: the leaf is not sent twice.
  const last = head.segments[head.segments.length - 1]
  const inHead = word.status === 'ok' && pos >= head.lastStart && pos + 4n <= head.lastStart + BigInt(last.leaf.length)
  return { ...base, head: head.segments, word: inHead ? [] : word.segments, found }
}

/** The file side of a header claim; `fault` when the walk found the file missing, short or malformed. */
export type FileRangeProof = Omit<ModelFileProof, 'found'> & { fault?: 'missing' | 'truncated' | 'malformed' }

/**
 * The file side of a header claim: the leaves of bytes [0, count) of a run's model file
 * (its header), and, when the file has a byte at `length` (it is longer than its template
 * says), the leaf of that byte.
 */
export async function buildFileRangeProof (blocks: BlockReader, run: CID, count: number, length: bigint): Promise<FileRangeProof> {
  const { base, link } = await modelFileOf(blocks, run)
  if (link === undefined) return { ...base, fault: 'missing' }
  const head = await readBytes(blocks, link.Hash, 0n, count)
  if (head.status !== 'ok') return { ...base, head: head.segments, fault: head.status === 'past-end' ? 'truncated' : 'malformed' }
  const past = await readBytes(blocks, link.Hash, length, 1)
  return { ...base, head: head.segments, word: past.status === 'ok' ? past.segments : [] }
}
