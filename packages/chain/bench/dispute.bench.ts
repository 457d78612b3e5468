import { encodeFunctionData, bytesToHex, type Abi, type Hex } from 'viem'
import { proveLeaves, wordBytes, Tensor } from '@commons/engine'
import type { BenchResult } from '../../../bench/table.ts'
import { binary32HarnessAbi, binary32HarnessBytecode, tensorMerkleHarnessAbi, tensorMerkleHarnessBytecode } from '../src/index.ts'
import { deployForTest, type DeployedForTest } from '../src/testing.ts'

/**
 * What one-element verification costs on-chain, from its parts (the dispute game itself
 * comes with issue 5): gas per binary32 operation of the Solidity library, and gas of
 * proving elements and rows against a tensor root. Measured with eth_estimateGas on
 * anvil: an operation as the difference to the same call with no operands, averaged;
 * a proof as the whole call (its calldata and the 21,000 of a transaction included).
 */
export async function benchDispute (log: (line: string) => void): Promise<BenchResult> {
  const rows: Array<Array<string | number>> = []
  const figures: Record<string, number> = {}
  const gas = async (c: DeployedForTest, abi: Abi, functionName: string, args: unknown[]): Promise<number> =>
    Number(await c.clients.public.estimateGas({ account: c.clients.account, to: c.address, data: encodeFunctionData({ abi, functionName, args } as never) as Hex }))

  log('dispute: binary32 operations')
  const arithmetic = await deployForTest(binary32HarnessAbi, binary32HarnessBytecode)
  try {
    const operands = (n: number, base: number): number[] => Array.from({ length: n }, (_, i) => (base + i * 977) >>> 0)
    const perOp = async (op: number, n: number): Promise<number> => {
      const empty = await gas(arithmetic, binary32HarnessAbi, 'evaluate', [op, [], []])
      return ((await gas(arithmetic, binary32HarnessAbi, 'evaluate', [op, operands(n, 0x3f800000), operands(n, 0x40000000)])) - empty) / n
    }
    for (const [name, op] of [['add', 0], ['sub', 1], ['mul', 2], ['div', 3], ['max', 4], ['sqrt', 6], ['exp', 8], ['log', 9]] as const) {
      const each = await perOp(op, 200)
      rows.push([`binary32 ${name}`, 'per operation', Math.round(each)])
      figures[`binary32.${name}`] = Math.round(each)
    }
    for (const n of [512, 2048]) {
      const used = await gas(arithmetic, binary32HarnessAbi, 'dot', [bytesToHex(wordBytes(operands(n, 0x3f800000))), bytesToHex(wordBytes(operands(n, 0x3e000000)))])
      rows.push([`dot product of ${n} terms`, n === 2048 ? 'the largest matmul element (MAX_INPUTS = 4096), whole call' : 'whole call', used])
      figures[`dot${n}`] = used
    }
  } finally {
    await arithmetic.stop()
  }

  log('dispute: element and row proofs')
  const merkle = await deployForTest(tensorMerkleHarnessAbi, tensorMerkleHarnessBytecode)
  try {
    const tensor = new Tensor([857_216], Float32Array.from({ length: 857_216 }, (_, i) => Math.sin(i)))
    for (const [what, first, leaves] of [['1 element (1 leaf)', 1000, 1], ['a row of 128', 1024, 16], ['a row of 344', 2048, 43], ['2048 elements', 4096, 256]] as const) {
      const proof = proveLeaves(tensor, first, first + leaves - 1)
      const used = await gas(merkle, tensorMerkleHarnessAbi, 'rootFromRange', [BigInt(proof.length), 0, BigInt(proof.firstLeaf), bytesToHex(wordBytes(proof.words)), proof.siblings.map(s => bytesToHex(s))])
      rows.push([`proof of ${what}`, `in a tensor of ${tensor.size.toLocaleString('en')} elements`, used])
      figures[`proof.${leaves}leaves`] = used
    }
  } finally {
    await merkle.stop()
  }
  return {
    part: 'dispute',
    title: 'Dispute building blocks: gas of binary32 arithmetic and element proofs (anvil)',
    columns: ['what', 'detail', 'gas'],
    rows,
    notes: [
      'the moves of a dispute and their gas come with the DisputeGame (issue 5); goal there: <= 4 moves after open, <= 5M gas each',
      'per-operation rows include the harness loop and its dispatch (~1.5k gas, see max); the dot rows are what a matmul element costs, proofs of its inputs come on top'
    ],
    figures
  }
}
