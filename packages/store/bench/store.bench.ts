import { importer, type ImporterOptions } from 'ipfs-unixfs-importer'
import { fixedSize, rabin } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import type { BenchResult } from '../../../bench/table.ts'
import { DEFAULT_EDITS, editRows, generateRows, rowsToBytes } from '../src/corpus.ts'
import { IMPORT_OPTIONS, ROW_CHUNKS } from '../src/chunking.ts'
import { fastCdcChunks, type FastCdcParams } from '../src/fastcdc.ts'

const CORPUS_BYTES = 25_000_000
const VERSIONS = 10

/**
 * An in-memory blockstore (a map from CID to bytes, as blockstore-core's) that
 * counts the bytes of distinct blocks: the same for every strategy.
 */
class CountingBlockstore {
  readonly blocksByCid = new Map<string, Uint8Array>()
  bytes = 0
  get blocks (): number { return this.blocksByCid.size }
  async put (cid: CID, bytes: Uint8Array): Promise<CID> {
    const key = Buffer.from(cid.bytes).toString('base64')
    if (!this.blocksByCid.has(key)) {
      this.blocksByCid.set(key, bytes)
      this.bytes += bytes.length
    }
    return cid
  }
}

interface Strategy {
  name: string
  /** Imports one version of the file; returns the root. */
  importVersion(store: CountingBlockstore, bytes: Uint8Array): Promise<CID>
}

async function runImporter (store: CountingBlockstore, content: ImporterOptions extends never ? never : Parameters<typeof importer>[0], options: ImporterOptions): Promise<CID> {
  let root: CID | undefined
  for await (const entry of importer(content, store as unknown as Blockstore, options)) root = entry.cid
  return root as CID
}

function referenceStrategy (name: string, options: ImporterOptions): Strategy {
  return {
    name,
    importVersion: async (store, bytes) => runImporter(store, [{ path: 'corpus.jsonl', content: bytes }], { cidVersion: 1, rawLeaves: true, wrapWithDirectory: true, ...options })
  }
}

function fastCdcStrategy (name: string, params: FastCdcParams, options: ImporterOptions = {}): Strategy {
  return {
    name,
    importVersion: async (store, bytes) => runImporter(store, [{ path: 'corpus.jsonl', content: fastCdcChunks([bytes], params) }], { ...IMPORT_OPTIONS, ...options })
  }
}

/**
 * Storage of 10 successive versions of a 25 MB JSONL corpus (each with ~100 scattered
 * row edits, 1% of rows appended, runs of rows inserted and deleted), for our
 * chunker and the UnixFS importer's own chunkers, in one run.
 */
export async function benchStore (log: (line: string) => void): Promise<BenchResult> {
  log(`store: generating ${VERSIONS} versions of a ${(CORPUS_BYTES / 1e6).toFixed(0)} MB JSONL corpus`)
  let rows = generateRows(CORPUS_BYTES, 1)
  const versions: Buffer[] = [rowsToBytes(rows)]
  for (let v = 1; v < VERSIONS; v++) {
    rows = editRows(rows, 1000 + v, DEFAULT_EDITS)
    versions.push(rowsToBytes(rows))
  }
  const oneVersion = versions[0].length
  const logical = versions.reduce((sum, v) => sum + v.length, 0)

  const strategies: Strategy[] = [
    referenceStrategy('importer fixed 256 KiB (default)', { chunker: fixedSize({ chunkSize: 262144 }) }),
    referenceStrategy('importer rabin 8 KiB avg', { chunker: rabin({ avgChunkSize: 8192, minChunkSize: 2048, maxChunkSize: 32768 }) }),
    fastCdcStrategy('FastCDC 4 KiB, bytes, importer balanced layout', { ...ROW_CHUNKS, alignByte: undefined }, { fileBuilder: undefined, layout: balanced() }),
    fastCdcStrategy('FastCDC 4 KiB, rows, importer balanced layout', ROW_CHUNKS, { fileBuilder: undefined, layout: balanced() }),
    fastCdcStrategy('FastCDC 4 KiB, rows, CDC layout (ours)', ROW_CHUNKS)
  ]

  const rowsOut: Array<Array<string | number>> = []
  const figures: Record<string, unknown> = { corpusBytes: oneVersion, versions: VERSIONS, logicalBytes: logical, strategies: [] as unknown[] }
  let fixedMBps = 0
  for (const strategy of strategies) {
    // Best of two runs: this machine is shared, and the first run also warms the JIT.
    let store = new CountingBlockstore()
    let seconds = Infinity
    for (let run = 0; run < 2; run++) {
      store = new CountingBlockstore()
      const started = performance.now()
      for (const bytes of versions) await strategy.importVersion(store, bytes)
      seconds = Math.min(seconds, (performance.now() - started) / 1000)
    }
    const mbps = logical / 1e6 / seconds
    if (fixedMBps === 0) fixedMBps = mbps
    const ratio = store.bytes / oneVersion
    log(`store: ${strategy.name}: ${mbps.toFixed(0)} MB/s, stored ${ratio.toFixed(2)}x one version`)
    rowsOut.push([strategy.name, mbps.toFixed(0), (mbps / fixedMBps).toFixed(2), store.blocks, (store.bytes / 1e6).toFixed(1), ratio.toFixed(2)])
    ;(figures.strategies as unknown[]).push({ name: strategy.name, ingestMBps: mbps, storedBytes: store.bytes, blocks: store.blocks, storedPerVersion: ratio })
  }
  const ours = (figures.strategies as Array<{ ingestMBps: number, storedPerVersion: number }>).at(-1)
  figures.ours = ours
  return {
    part: 'store',
    title: `Storage: ${VERSIONS} versions of a ${(oneVersion / 1e6).toFixed(1)} MB JSONL corpus (in-memory blockstore)`,
    columns: ['chunker', 'ingest MB/s', 'vs fixed', 'blocks', 'stored MB', 'stored / one version'],
    rows: rowsOut,
    notes: [
      `edits per version: ${DEFAULT_EDITS.scatteredEdits} scattered row edits, ${DEFAULT_EDITS.appendShare * 100}% rows appended, ${DEFAULT_EDITS.runs} runs inserted and ${DEFAULT_EDITS.runs} deleted (${DEFAULT_EDITS.runShare * 100}% of rows each way)`,
      `logical size of all versions: ${(logical / 1e6).toFixed(0)} MB; ingest MB/s counts all of it through the whole import (chunk, hash, DAG, store)`,
      'goal: stored / one version <= 1.5 at >= 200 MB/s'
    ],
    figures
  }
}
