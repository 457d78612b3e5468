import { fixedSize, type Chunker } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import type { ImporterOptions } from 'ipfs-unixfs-importer'
import type { FastCdcParams } from './fastcdc.ts'
import { contentDefinedFileBuilder } from './fileBuilder.ts'

/**
 * Chunk sizes, chosen by measurement (`npm run bench -- --part store`): rows of text
 * change one at a time, so small row-aligned chunks keep an edit's footprint small;
 * other files get larger chunks, fewer blocks.
 */
export const ROW_CHUNKS: FastCdcParams = { minSize: 1024, avgSize: 4096, maxSize: 16384, alignByte: 0x0a }
export const BINARY_CHUNKS: FastCdcParams = { minSize: 16384, avgSize: 65536, maxSize: 262144 }

const ROW_FORMATS = /\.(jsonl|ndjson|csv|tsv|txt|md|json|xml|html|yaml|yml|log)$/i

/** The chunker settings for a file, chosen by its name. */
export function chunkParamsFor (path: string): FastCdcParams {
  return ROW_FORMATS.test(path) ? ROW_CHUNKS : BINARY_CHUNKS
}

/** Content arrives already cut by FastCDC; the importer keeps each piece as one leaf. */
const asIs: Chunker = source => source

/**
 * Importer settings that every Commons node must share, or the same files would
 * get different CIDs: CIDv1, raw leaves, our layout, no mode or mtime.
 */
export const IMPORT_OPTIONS: ImporterOptions = {
  cidVersion: 1,
  rawLeaves: true,
  reduceSingleLeafToSelf: true,
  chunker: asIs,
  fileBuilder: contentDefinedFileBuilder(),
  wrapWithDirectory: true,
  // Files are cut and hashed a few at a time (the importer's default is 50 at once):
  // a dataset of many shards then holds a few files' buffers, not fifty. CIDs do not
  // depend on it.
  fileImportConcurrency: 2
}

/**
 * How files are cut into blocks: `commons` (FastCDC and content-defined trees, so an
 * edit rewrites few blocks) or `ipfs-add` (what `ipfs add --cid-version=1` does with
 * Kubo's default import settings, so each file's CID is the one Kubo prints).
 */
export type ImportLayout = 'commons' | 'ipfs-add'

/**
 * Kubo's `ipfs add --cid-version=1`: CIDv1, raw leaves (implied by CIDv1), fixed
 * 256 KiB chunks (`size-262144`), a balanced tree of at most 174 links per node, a
 * one-chunk file as its raw leaf, no mode or mtime.
 */
export const IPFS_ADD_IMPORT_OPTIONS: ImporterOptions = {
  cidVersion: 1,
  rawLeaves: true,
  reduceSingleLeafToSelf: true,
  chunker: fixedSize({ chunkSize: 262144 }),
  layout: balanced({ maxChildrenPerNode: 174 }),
  wrapWithDirectory: true
}
