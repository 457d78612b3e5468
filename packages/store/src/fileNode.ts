import type { CID } from 'multiformats/cid'

/** A link of a file node: a child's CID and the bytes of every block below and including it (Tsize). */
export interface FileNodeLink {
  cid: CID
  tsize: number
}

/**
 * The dag-pb bytes of an internal file node: exactly what `@ipld/dag-pb`'s encode gives
 * for `{ Data: data, Links: links as { Hash, Name: '', Tsize } }` (links first, then
 * Data; `fileNode.test.ts` compares the two). One node per ~32 chunks is encoded on
 * the import's main thread, and the generic encoder runs a TextEncoder twice per link
 * for the empty name (7% of that thread's time in a 1 GB commit).
 */
export function encodeFileNode (data: Uint8Array, links: FileNodeLink[]): Uint8Array {
  let size = 1 + varintLength(data.length) + data.length
  for (const link of links) {
    const length = linkLength(link)
    size += 1 + varintLength(length) + length
  }
  const out = new Uint8Array(size)
  let at = 0
  for (const link of links) {
    const hash = link.cid.bytes
    out[at++] = 0x12 // PBNode.Links (2), length-delimited
    at = writeVarint(out, at, linkLength(link))
    out[at++] = 0x0a // PBLink.Hash (1), length-delimited
    at = writeVarint(out, at, hash.length)
    out.set(hash, at)
    at += hash.length
    out[at++] = 0x12 // PBLink.Name (2): the empty string
    out[at++] = 0x00
    out[at++] = 0x18 // PBLink.Tsize (3), varint
    at = writeVarint(out, at, link.tsize)
  }
  out[at++] = 0x0a // PBNode.Data (1), length-delimited
  at = writeVarint(out, at, data.length)
  out.set(data, at)
  return out
}

function linkLength (link: FileNodeLink): number {
  const hash = link.cid.bytes.length
  return 1 + varintLength(hash) + hash + 2 + 1 + varintLength(link.tsize)
}

function varintLength (value: number): number {
  let length = 1
  while (value >= 0x80) {
    value = Math.floor(value / 0x80)
    length++
  }
  return length
}

function writeVarint (out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80
    value = Math.floor(value / 0x80)
  }
  out[at++] = value
  return at
}
