// Writes contracts/test/modelfile/ModelFileFixtureData.sol: a final state S_T (two parameter
// slots, their m and v), its transcript, and runs whose model.safetensors is honest, has one
// wrong weight, is truncated, is missing, has a header length past its end, or is linked by
// a CID of the wrong codec; each run stored as the store stores it (the store's file builder,
// raw leaves, a dag-cbor commit), and the claims and file proofs the TypeScript builders make
// for them, so ModelFileDisputes is tested against bytes it did not produce. One run is
// imported by the store's own importer (its real chunking: one raw leaf for a small file);
// the others are built with small chunks and few children per node, so their files are
// trees of dag-pb nodes three levels deep. Deterministic.
// Usage: node packages/chain/scripts/modelFileFixture.ts
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as dagPb from '@ipld/dag-pb'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import writeFileAtomic from 'write-file-atomic'
import { contentDefinedFileBuilder, importFiles, putVersion } from '@commons/store'
import { encodeSafetensors, fillTemplate, headerTemplate, Tensor } from '@commons/engine'
import { stateRoot, toHex, transcriptRootOf, type TranscriptRecord } from '@commons/protocol'
import { buildFileRangeProof, buildModelFileProof, type FileSegment } from '../src/modelFileProof.ts'
import { templateHash } from '../src/modelHeader.ts'
import { modelClaim } from '../src/modelFileDispute.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const MODEL_FILE_FIXTURE = join(root, 'contracts', 'test', 'modelfile', 'ModelFileFixtureData.sol')
const STEPS = 3
const SHAPES = [[2, 3], [30, 50]]

/** Pseudo-random floats from a fixed xorshift. */
function values (count: number, salt: number): Float32Array {
  let x = 0x9e3779b9 ^ salt
  return Float32Array.from({ length: count }, () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    return ((x >>> 0) / 2 ** 32 - 0.5) * 0.2
  })
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1)

/** Cuts bytes into chunks of 600 .. 1400 bytes (fixed pseudo-random sizes, not multiples of 4). */
function * chunks (bytes: Uint8Array): Generator<Uint8Array> {
  let at = 0
  for (let i = 0; at < bytes.length; i++) {
    const n = 600 + ((i * 2654435761) >>> 0) % 801
    yield bytes.subarray(at, at + n)
    at += n
  }
}

/** A run tree: a UnixFS directory of `files`, each built by the store's file builder from small chunks. */
async function smallChunkRun (blocks: MemoryBlockstore, files: Array<{ name: string, bytes: Uint8Array } | { name: string, cid: CID }>): Promise<CID> {
  const build = contentDefinedFileBuilder({ averageChildren: 2, maxChildren: 4 })
  const links = []
  for (const file of files) {
    if ('cid' in file) {
      links.push({ Name: file.name, Hash: file.cid, Tsize: 0 })
      continue
    }
    const built = await build({ path: file.name, content: chunks(file.bytes) } as never, blocks as never, {} as never)
    links.push({ Name: file.name, Hash: built.cid, Tsize: Number(built.size) })
  }
  links.sort((a, b) => a.Name < b.Name ? -1 : 1)
  const bytes = dagPb.encode(dagPb.prepare({ Data: Uint8Array.of(0x08, 0x01), Links: links }))
  const cid = CID.createV1(dagPb.code, Digest.create(sha256.code, (await sha256.digest(bytes)).digest))
  await blocks.put(cid, bytes)
  return cid
}

export async function renderModelFileFixture (): Promise<{ source: string, depths: number[] }> {
  const blocks = new MemoryBlockstore()
  const params = SHAPES.map((shape, i) => new Tensor(shape, values(size(shape), 1 + i)))
  const slots = [...params, ...SHAPES.map((shape, i) => new Tensor(shape, values(size(shape), 10 + i))), ...SHAPES.map((shape, i) => new Tensor(shape, values(size(shape), 20 + i)))]
  const records: TranscriptRecord[] = [...Array(STEPS).keys()].map(i => ({ state: toHex(stateRoot(slots, 100 + i)), loss: 5 - i }))
  records.push({ state: toHex(stateRoot(slots, STEPS)), loss: 1.5 })
  const transcript = transcriptRootOf(records)
  const metadata = { stateRoot: records[STEPS].state, transcriptRoot: transcript }
  const honest = encodeSafetensors(params.map((t, i) => [`param-${i}`, t]), metadata)
  // The header the job binds: the template of these tensors and metadata.
  const template = headerTemplate(SHAPES.map((shape, i) => ({ name: `param-${i}`, dtype: 'f32', shape })), (s, t) => ({ stateRoot: s, transcriptRoot: t }))
  const header = fillTemplate(template, records[STEPS].state, transcript)
  if (!honest.subarray(0, header.length).equals(header) || BigInt(honest.length) !== template.length) throw new Error('the template does not give the honest file')
  const headerLength = Number(honest.readBigUInt64LE(0))
  // The element whose word straddles the first leaf boundary that is not 4-aligned in the data.
  let boundary = 0
  for (const c of chunks(honest)) {
    boundary += c.length
    if ((boundary - 8 - headerLength) % 4 !== 0 && boundary > 8 + headerLength + 24) break
  }
  const straddling = Math.floor((boundary - 8 - headerLength) / 4) - size(SHAPES[0])
  const targets = [{ slot: 1, element: straddling }, { slot: 0, element: 2 }, { slot: 1, element: size(SHAPES[1]) - 1 }]

  const wrongParams = params.map(t => new Tensor(t.shape, Float32Array.from(t.f32)))
  wrongParams[1].f32[straddling] += 0.5
  const wrong = encodeSafetensors(wrongParams.map((t, i) => [`param-${i}`, t]), metadata)
  const truncated = honest.subarray(0, honest.length - 4000)
  const outside = Buffer.from(honest)
  outside.writeBigUInt64LE(1n << 40n, 0)
  const other = encodeSafetensors(params.map((t, i) => [`param-${i}`, new Tensor(t.shape, values(t.size, 77 + i))]), metadata)
  const transcriptFile = new TextEncoder().encode(records.map(r => JSON.stringify(r)).join('\n') + '\n')
  // Every weight at its offset, under a header that names the two tensors the other way round.
  const swapped = encodeSafetensors(params.map((t, i) => [`param-${1 - i}`, t]), metadata)
  const oversized = Buffer.concat([honest, Buffer.alloc(16, 0x2a)])
  const cborLeaf = CID.parse('bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')

  const version = async (tree: CID, message: string): Promise<CID> => putVersion(blocks, { parents: [], tree, message, author: 'commons', time: 1_700_000_000 })
  const small = async (model: Uint8Array, name = 'model.safetensors'): Promise<CID> => smallChunkRun(blocks, [{ name, bytes: model }, { name: 'transcript.jsonl', bytes: transcriptFile }])
  const runs = [
    { name: 'HONEST', cid: await version(await small(honest), 'honest') },
    { name: 'WRONG', cid: await version(await small(wrong), 'one wrong weight') },
    { name: 'TRUNCATED', cid: await version(await small(truncated), 'truncated') },
    { name: 'MISSING', cid: await version(await small(honest, 'model.bin'), 'missing') },
    { name: 'OUTSIDE', cid: await version(await small(outside), 'header length past the end') },
    { name: 'OTHER', cid: await version(await small(other), 'another job') },
    { name: 'STORE', cid: await version(await importFiles(blocks, [{ path: 'model.safetensors', content: [honest] }, { path: 'transcript.jsonl', content: [transcriptFile] }]), 'real store layout') },
    { name: 'BADCODEC', cid: await version(await smallChunkRun(blocks, [{ name: 'model.safetensors', cid: cborLeaf }]), 'a file of the wrong codec') },
    { name: 'SWAPPED', cid: await version(await small(swapped), 'names swapped in the header') },
    { name: 'OVERSIZED', cid: await version(await small(oversized), 'bytes past the end') }
  ]

  const claims = targets.map(t => modelClaim({ jobId: 0n, header: { stepOpsRoot: toHex(new Uint8Array(32)), stepOps: 10, paramSlots: 2, initOpsRoot: toHex(new Uint8Array(32)), lossOp: 0 }, records, slots, ...t }))
  const segs = (s: string, list: FileSegment[]): string[] => [
    `            ${s} = new ModelFileReader.Segment[](${list.length});`,
    ...list.flatMap((seg, j) => [
      `            ${s}[${j}].nodes = new bytes[](${seg.nodes.length});`,
      ...seg.nodes.map((n, k) => `            ${s}[${j}].nodes[${k}] = hex"${hex(n)}";`),
      `            ${s}[${j}].leaf = hex"${hex(seg.leaf)}";`
    ])
  ]
  const proofs: string[] = []
  const depths: number[] = []
  for (const [r, run] of runs.entries()) {
    for (const [t, claim] of claims.entries()) {
      const proof = await buildModelFileProof(blocks, run.cid, claim.paramOffset)
      depths.push(proof.word[0]?.nodes.length ?? -1)
      const found = 'word' in proof.found ? `word ${proof.found.word}` : proof.found.fault
      proofs.push(
        `        if (run == ${r} && target == ${t}) { // ${run.name}: ${found}`,
        `            commit = hex"${hex(proof.commit)}";`,
        `            tree = hex"${hex(proof.tree)}";`,
        ...segs('head', proof.head),
        ...segs('word', proof.word),
        '        }'
      )
    }
  }
  const headerProofs: string[] = []
  for (const [r, run] of runs.entries()) {
    const proof = await buildFileRangeProof(blocks, run.cid, header.length, template.length)
    headerProofs.push(
      `        if (run == ${r}) { // ${run.name}${'fault' in proof.found ? `: ${proof.found.fault}` : ''}${proof.word.length > 0 ? ': a byte past the end' : ''}`,
      `            commit = hex"${hex(proof.commit)}";`,
      `            tree = hex"${hex(proof.tree)}";`,
      ...segs('head', proof.head),
      ...segs('word', proof.word),
      '        }'
    )
  }
  const c0 = claims[0].claim
  const lines = [
    '// SPDX-License-Identifier: MIT',
    '// Generated by packages/chain/scripts/modelFileFixture.ts from the real store. Do not edit.',
    'pragma solidity ^0.8.24;',
    '',
    'import {ModelFileReader} from "../../src/market/ModelFileReader.sol";',
    'import {StepOps} from "../../src/dispute/StepOps.sol";',
    '',
    '/// @notice S_T, its transcript, runs of model files honest and not, and the claims and',
    '///         file proofs the TypeScript builders made for them.',
    'library ModelFileFixtureData {',
    `    uint32 internal constant STEPS = ${STEPS};`,
    `    bytes32 internal constant TRANSCRIPT_ROOT = ${transcript};`,
    `    bytes32 internal constant LAST_STATE = ${c0.last.state};`,
    `    uint32 internal constant LOSS_BITS = ${c0.last.lossBits};`,
    `    uint256 internal constant TARGETS = ${targets.length};`,
    `    uint256 internal constant STRADDLING = ${straddling};`,
    ...runs.map((run, i) => `    uint256 internal constant ${run.name} = ${i};`),
    '',
    '    function runCid(uint256 run) internal pure returns (bytes memory) {',
    ...runs.map((run, i) => `        if (run == ${i}) return hex"${hex(run.cid.bytes)}";`),
    '        revert("no such run");',
    '    }',
    '',
    '    function lastProof() internal pure returns (bytes32[] memory p) {',
    `        p = new bytes32[](${c0.lastProof.length});`,
    ...c0.lastProof.map((h, i) => `        p[${i}] = ${h};`),
    '    }',
    '',
    '    function slotRoots() internal pure returns (bytes32[] memory r) {',
    `        r = new bytes32[](${c0.slotRoots.length});`,
    ...c0.slotRoots.map((h, i) => `        r[${i}] = ${h};`),
    '    }',
    '',
    '    /// @notice Target `target`: the slot, the element, the Merkle roots and lengths of the slots before, and the opening.',
    '    function target(uint256 t) internal pure returns (uint256 slot, uint256 element, bytes32[] memory trees, uint256[] memory lengths, StepOps.Opening memory o) {',
    ...claims.flatMap(({ claim }, t) => [
      `        if (t == ${t}) {`,
      `            trees = new bytes32[](${claim.paramTrees.length});`,
      ...claim.paramTrees.map((h, i) => `            trees[${i}] = ${h};`),
      `            lengths = new uint256[](${claim.paramLengths.length});`,
      ...claim.paramLengths.map((n, i) => `            lengths[${i}] = ${n};`),
      `            bytes32[] memory siblings = new bytes32[](${claim.opening.siblings.length});`,
      ...claim.opening.siblings.map((h, i) => `            siblings[${i}] = ${h};`),
      `            o = StepOps.Opening(${claim.opening.length}, ${claim.opening.dtype}, ${claim.opening.firstLeaf}, hex"${claim.opening.words.slice(2)}", siblings);`,
      `            return (${claim.slot}, ${claim.element}, trees, lengths, o);`,
      '        }'
    ]),
    '    }',
    '',
    '    /// @notice The header template of the job (its hash is the job\'s modelHeader).',
    `    bytes32 internal constant MODEL_HEADER = ${templateHash(template)};`,
    `    uint256 internal constant FILE_LENGTH = ${template.length};`,
    `    bytes internal constant PREFIX = hex"${hex(template.prefix)}";`,
    `    bytes internal constant MIDDLE = hex"${hex(template.middle)}";`,
    `    bytes internal constant SUFFIX = hex"${hex(template.suffix)}";`,
    '',
    '    /// @notice The header proof the builder made for run `run`: the leaves of the header, and of a byte past the end if any.',
    '    function headerFile(uint256 run) internal pure returns (bytes memory commit, bytes memory tree, ModelFileReader.Segment[] memory head, ModelFileReader.Segment[] memory word) {',
    ...headerProofs,
    '    }',
    '',
    '    /// @notice The file proof the builder made for run `run` and target `target`.',
    '    function file(uint256 run, uint256 target) internal pure returns (bytes memory commit, bytes memory tree, ModelFileReader.Segment[] memory head, ModelFileReader.Segment[] memory word) {',
    ...proofs,
    '    }',
    '}',
    ''
  ]
  return { source: lines.join('\n'), depths }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { source, depths } = await renderModelFileFixture()
  await writeFileAtomic(MODEL_FILE_FIXTURE, source)
  console.log(`wrote ${MODEL_FILE_FIXTURE} (${Math.round(source.length / 1024)} KiB; word path depths ${depths.join(', ')})`)
}
