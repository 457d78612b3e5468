import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { hexToBytes, parseEther, toHex } from 'viem'
import type { CID } from 'multiformats/cid'
import { BINARY_CHUNKS, commitVersion, fastCdcChunks, initDataset, openStore, walkDag, type Store } from '@commons/store'
import type { BenchResult } from '../../../bench/table.ts'
import {
  buildStorageProof, connect, createStorageDeal, deploy, devnetAccount, joinStorageDeal, proveStorage, registerAndStake,
  startDevnet, storageMarketAbi, storageWindow, transferTokens, TX_GAS_CAP, type Clients, type Deployment, type StorageProof, type StorageTerms
} from '../src/index.ts'
import {
  calldataTokens, COST_ASSUMPTIONS, costRow, PDP, pdpProofGas, pdpPublishedUsdPerGiBMonth, proofsPerMonth
} from './storageCost.ts'

interface Shape { name: string, files: () => Promise<Array<[string, Uint8Array]>> }

function rows (count: number): Uint8Array {
  const lines = []
  for (let i = 0; i < count; i++) lines.push(JSON.stringify({ id: i, text: `row ${i} ${(i * 2654435761 >>> 0).toString(36).repeat(1 + i % 9)}` }))
  return new TextEncoder().encode(lines.join('\n') + '\n')
}

/** Bytes FastCDC never cuts: every chunk is the largest the store makes (256 KiB). */
async function largestChunks (count: number): Promise<Uint8Array> {
  for (let b = 1; b < 256; b++) {
    const bytes = new Uint8Array(count * BINARY_CHUNKS.maxSize).fill(b)
    const sizes: number[] = []
    for await (const chunk of fastCdcChunks([bytes], BINARY_CHUNKS)) sizes.push(chunk.length)
    if (sizes.every(size => size === BINARY_CHUNKS.maxSize)) return bytes
  }
  throw new Error('every byte value cuts')
}

const NESTED = 'a/b/c/d/'
const text8 = rows(128_000)
const binary4 = randomBytes(4 << 20)

/** Leaf size (the chunker), file size (file-node levels) and directories (more levels). */
const SHAPES: Shape[] = [
  { name: 'text, one leaf', files: async () => [['notes.txt', rows(40)]] },
  { name: 'text, 1 MB', files: async () => [['rows.jsonl', rows(16_000)]] },
  { name: 'text, 8 MB', files: async () => [['rows.jsonl', text8]] },
  { name: 'text, 8 MB, 4 dirs down', files: async () => [[`${NESTED}rows.jsonl`, text8]] },
  { name: 'binary, 4 MB', files: async () => [['data.bin', binary4]] },
  { name: 'binary, 4 MB, 4 dirs down', files: async () => [[`${NESTED}data.bin`, binary4]] },
  // The same bytes under the text chunker's 16 KiB cap (a name it cuts as rows): what a
  // chunk-size cap for datasets meant for storage deals would cost and save.
  { name: 'binary, 4 MB, 16 KiB cap', files: async () => [['data.txt', binary4]] },
  { name: 'largest chunks (256 KiB)', files: async () => [['blob.bin', await largestChunks(3)]] }
]

const PROOFS_PER_SHAPE = 5

async function mineTo (clients: Clients, block: bigint): Promise<void> {
  const head = await clients.public.getBlockNumber()
  if (head < block) await clients.public.request({ method: 'anvil_mine' as never, params: [toHex(block - head)] as never })
}

async function commitShape (store: Store, root: string, shape: Shape, index: number): Promise<{ version: CID, tree: CID, bytes: number, blocks: number }> {
  const dir = join(root, `shape-${index}`)
  let bytes = 0
  for (const [path, content] of await shape.files()) {
    await mkdir(dirname(join(dir, path)), { recursive: true })
    await writeFile(join(dir, path), content)
    bytes += content.length
  }
  await initDataset(store, `shape-${index}`)
  const { cid, version } = await commitVersion(store, { name: `shape-${index}`, path: dir, message: shape.name, author: 'bench', time: 0 })
  return { version: cid, tree: version.tree, bytes, blocks: (await walkDag(store.blocks, [version.tree])).blocks }
}

interface Proven { gas: number, floor: number, bytes: number, leaf: number, depth: number }

/** Proves `PROOFS_PER_SHAPE` epochs of a one-replica deal; each proof's gas, calldata floor and shape. */
async function proveShape (funder: Clients, provider: Clients, deployment: Deployment, store: Store, version: CID, tree: CID): Promise<Proven[]> {
  const terms: StorageTerms = { replicas: 1, epochs: PROOFS_PER_SHAPE + 1, epochBlocks: 32, pricePerEpoch: parseEther('1'), collateral: parseEther('10'), slashBps: 5_000 }
  const { dealId } = await createStorageDeal(funder, deployment, store.blocks, version, terms)
  await joinStorageDeal(provider, deployment, dealId, 0)
  const proofs = []
  for (let epoch = 1; epoch <= PROOFS_PER_SHAPE; epoch++) {
    await mineTo(funder, (await storageWindow(funder, deployment, dealId, epoch)).opens)
    const { receipt, bytes } = await proveStorage(provider, deployment, store.blocks, { dealId, slot: 0, epoch, tree })
    const tx = await funder.public.getTransaction({ hash: receipt.transactionHash })
    const drawn = await drawnPath(store, tree, funder, deployment, dealId, epoch)
    proofs.push({ gas: Number(receipt.gasUsed), floor: 21_000 + 10 * calldataTokens(hexToBytes(tx.input)), bytes, leaf: drawn.leaf.length, depth: drawn.nodes.length })
  }
  return proofs
}

/** The path the epoch's challenge drew (what the provider proved). */
async function drawnPath (store: Store, tree: CID, clients: Clients, deployment: Deployment, dealId: bigint, epoch: number): Promise<StorageProof> {
  const seed = await clients.public.readContract({ address: deployment.contracts.storageMarket as `0x${string}`, abi: storageMarketAbi, functionName: 'challengeSeed', args: [dealId, 0n, epoch] })
  return buildStorageProof(store.blocks, tree, seed)
}

/** Proofs a provider builds per second from its blockstore, for random seeds, over 2 s. */
async function proofsPerSecond (store: Store, tree: CID): Promise<number> {
  let built = 0
  const started = performance.now()
  while (performance.now() - started < 2_000) {
    await buildStorageProof(store.blocks, tree, BigInt(`0x${randomBytes(32).toString('hex')}`))
    built += 1
  }
  return built / ((performance.now() - started) / 1000)
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length

/**
 * Storage proofs on a real anvil: the gas of a proof by leaf size and tree depth, next to
 * an ERC-20 transfer and the proof's own EIP-7623 calldata floor measured in the same run;
 * how many proofs a provider builds per second; and what a replica costs a month, next to
 * PDP's proof shape computed the same way and its published price.
 */
export async function benchStorage (log: (line: string) => void): Promise<BenchResult[]> {
  const root = await mkdtemp(join(tmpdir(), 'commons-bench-storage-'))
  const devnet = await startDevnet({ home: join(root, 'chain') })
  const store = await openStore(join(root, 'store'))
  try {
    const [funder, provider] = [await connect(devnet.rpcUrl, devnetAccount(0)), await connect(devnet.rpcUrl, devnetAccount(1))]
    const deployment = await deploy(funder)
    const transfer = Number((await transferTokens(funder, deployment, provider.account.address, parseEther('10000'))).gasUsed)
    await registerAndStake(provider, deployment, { peerId: toHex('storer'), roles: [], amount: parseEther('5000') })

    const table: Array<Array<string | number>> = [['ERC-20 transfer (reference)', '', '', '', '', transfer, '', '', '1.00']]
    const shapes: Record<string, unknown> = {}
    const gasOf: Record<string, number> = {}
    const speed: Record<string, number> = {}
    for (const [i, shape] of SHAPES.entries()) {
      log(`storage: ${shape.name}`)
      const { version, tree, bytes, blocks } = await commitShape(store, root, shape, i)
      const proofs = await proveShape(funder, provider, deployment, store, version, tree)
      const gas = mean(proofs.map(p => p.gas))
      const floorShare = mean(proofs.map(p => p.floor / p.gas))
      const row = { bytes, blocks, leafKiB: mean(proofs.map(p => p.leaf)) / 1024, depth: mean(proofs.map(p => p.depth)), proofKiB: mean(proofs.map(p => p.bytes)) / 1024, gas, maxGas: Math.max(...proofs.map(p => p.gas)), floorShare }
      table.push([shape.name, blocks, row.leafKiB.toFixed(1), row.depth.toFixed(1), row.proofKiB.toFixed(1), Math.round(gas), Math.round(mean(proofs.map(p => p.floor))), `${(100 * floorShare).toFixed(0)} %`, (gas / transfer).toFixed(2)])
      shapes[shape.name] = row
      gasOf[shape.name] = gas
      if (['text, 8 MB', 'binary, 4 MB', 'largest chunks (256 KiB)'].includes(shape.name)) speed[shape.name] = await proofsPerSecond(store, tree)
    }

    const demoBytes = 395_157 // the demo's canonical version (v2 of its corpus), as its storers fetch it
    const hundredGiB = 100 * 2 ** 30
    const pdp = pdpProofGas(hundredGiB)
    const daily = proofsPerMonth(86_400 / COST_ASSUMPTIONS.blockSeconds)
    const costs = [
      { scheme: 'demo terms: 32-block epochs, text (demo corpus)', proofsPerMonth: proofsPerMonth(32), gasPerProof: gasOf['text, 1 MB'], datasetBytes: demoBytes, replicas: 2 },
      { scheme: 'daily epochs, text, 100 GiB', proofsPerMonth: daily, gasPerProof: gasOf['text, 8 MB, 4 dirs down'], datasetBytes: hundredGiB, replicas: 1 },
      { scheme: 'daily epochs, binary, 100 GiB', proofsPerMonth: daily, gasPerProof: gasOf['binary, 4 MB, 4 dirs down'], datasetBytes: hundredGiB, replicas: 1 },
      { scheme: 'daily epochs, binary under a 16 KiB cap, 100 GiB', proofsPerMonth: daily, gasPerProof: gasOf['binary, 4 MB, 16 KiB cap'], datasetBytes: hundredGiB, replicas: 1 },
      { scheme: 'daily epochs, largest chunks, 100 GiB', proofsPerMonth: daily, gasPerProof: gasOf['largest chunks (256 KiB)'], datasetBytes: hundredGiB, replicas: 1 },
      { scheme: 'PDP shape on this EVM, daily, 100 GiB (model)', proofsPerMonth: PDP.periodsPerDay * COST_ASSUMPTIONS.daysPerMonth, gasPerProof: pdp.gas, datasetBytes: hundredGiB, replicas: 1 }
    ]
    const published = pdpPublishedUsdPerGiBMonth(hundredGiB)
    const { gasPriceGwei, ethUsd } = COST_ASSUMPTIONS
    return [{
      part: 'storage',
      title: 'Storage proofs: gas by leaf size and tree depth (one leaf under its version CID per replica per epoch)',
      columns: ['dataset', 'blocks', 'leaf KiB', 'depth', 'proof KiB', 'gas / proof', 'calldata floor', 'floor / gas', '× transfer'],
      rows: table,
      notes: [
        `blocks: the version's tree, its cost in index entries and bitswap wants; leaf KiB and depth are the means over ${PROOFS_PER_SHAPE} drawn proofs (a leaf is drawn with probability proportional to its bytes); depth counts the dag-pb nodes above the leaf`,
        'calldata floor: 21,000 + 10 gas per calldata token (EIP-7623: 1 token a zero byte, 4 any other), read from each proof transaction; at 100 % the transaction pays the floor and no execution saving can lower it',
        `the leaf's bytes are the floor: the contract must hash the whole raw leaf to match its CID, and the precompile starts from SHA-256's initial state, so a window of the leaf cannot be checked alone; the largest chunk the store cuts (${BINARY_CHUNKS.maxSize / 1024} KiB) costs ${Math.round(gasOf['largest chunks (256 KiB)'] / 1e5) / 10} M gas, under the ${(TX_GAS_CAP / 1e6).toFixed(1)} M a transaction may use (EIP-7825)`,
        `a provider builds ${Object.entries(speed).map(([n, s]) => `${s.toFixed(0)} proofs/s (${n})`).join(', ')} from its blockstore, random seeds`
      ],
      figures: { transferGas: transfer, shapes, proofsPerSecond: speed, txGasCap: TX_GAS_CAP }
    }, {
      part: 'storage-cost',
      title: `Storage proof gas per month, Commons next to PDP's proof shape (${gasPriceGwei} gwei, ETH at $${ethUsd}, ${COST_ASSUMPTIONS.blockSeconds} s blocks)`,
      columns: ['scheme', 'replicas', 'proofs / replica-month', 'gas / proof', 'M gas / month', '$ / month', '$ / GiB-month'],
      rows: costs.map(costRow),
      notes: [
        'gas / proof for Commons is measured above (demo terms: the 1 MB text row; daily: the deepest text and binary rows, whose depth a 100 GiB dataset reaches); the PDP row is a model of its proof on the same EVM (5 × (32-byte leaf + ' + String(pdp.depth) + ' siblings), calldata floor or 16 gas a byte plus sha256 per level and 50 k gas), see storageCost.ts',
        `PDP's published price (Filecoin Warm Storage Service): $${PDP.usdPerTiBMonth}/TiB-month per copy + $${PDP.usdPerDataSetMonth}/data set-month for proving = $${published.toFixed(4)} / GiB-month at 100 GiB, storage included; its proofs pay Filecoin's gas, not this EVM's`,
        'proof gas scales with the gas price: at 0.01 gwei (an L2) every $ column is 100× lower; it does not grow with the dataset (depth grows with its logarithm), so $ / GiB-month falls as the dataset grows'
      ],
      figures: { assumptions: COST_ASSUMPTIONS, pdp: { ...PDP, modeledProof: pdp, publishedUsdPerGiBMonth: published }, rows: costs.map(c => Object.fromEntries(['scheme', 'replicas', 'proofsPerReplicaMonth', 'gasPerProof', 'MGasPerMonth', 'usdPerMonth', 'usdPerGiBMonth'].map((k, i) => [k, costRow(c)[i]]))) }
    }]
  } finally {
    await store.close()
    await devnet.stop()
    await rm(root, { recursive: true, force: true })
  }
}
