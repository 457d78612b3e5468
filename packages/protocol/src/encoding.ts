import { encodeAbiParameters, keccak256, type Hex } from 'viem'
import { nodeProof, nodeRoot, type Hash } from './commit.ts'
import { hexBytes, toHex } from './hex.ts'
import type { ProgramHeader, ProgramOp, RefKind } from './program.ts'

/** The ABI encoding of step-program ops and headers, as the Solidity side (StepOps) hashes them. */

/** Ref kinds as StepOps.OpInput.kind. */
export const REF_KIND_CODE: Record<RefKind, number> = { slot: 0, op: 1, tokens: 2, const: 3 }

const OP_ABI = [{
  type: 'tuple',
  components: [
    { name: 'code', type: 'uint8' },
    { name: 'dtype', type: 'uint8' },
    { name: 'dims', type: 'uint32[]' },
    { name: 'inputs', type: 'tuple[]', components: [{ name: 'kind', type: 'uint8' }, { name: 'index', type: 'uint32' }, { name: 'root', type: 'bytes32' }] },
    { name: 'attrs', type: 'uint32[]' }
  ]
}] as const

const ZERO_ROOT: Hex = `0x${'00'.repeat(32)}`

/** An op as the Solidity struct StepOps.Op (viem's encoding of it). */
export function opStruct (op: ProgramOp, constantRoots: readonly Hex[]) {
  return {
    code: op.code,
    dtype: op.dtype === 'f32' ? 0 : 1,
    dims: op.dims,
    inputs: op.inputs.map(r => ({ kind: REF_KIND_CODE[r.kind], index: r.kind === 'const' ? 0 : r.index, root: r.kind === 'const' ? constantRoots[r.index] : ZERO_ROOT })),
    attrs: op.attrs
  }
}

/** keccak256(abi.encode(op)): the op's leaf in its program's tree. */
export function opLeaf (op: ProgramOp, constantRoots: readonly Hex[]): Hash {
  return hexBytes(keccak256(encodeAbiParameters(OP_ABI, [opStruct(op, constantRoots)])))
}

/** The siblings that prove op `index` under its program's ops root (stepOpsRoot or initOpsRoot). */
export function opProof (ops: readonly ProgramOp[], constantRoots: readonly Hex[], index: number): Hash[] {
  return nodeProof(ops.map(op => opLeaf(op, constantRoots)), index)
}

/** The header of a program: the roots of its step and init ops, and what the chain checks them by. */
export function programHeader (step: readonly ProgramOp[], init: readonly ProgramOp[], paramSlots: number, constantRoots: readonly Hex[], lossOp: number): ProgramHeader {
  return {
    stepOpsRoot: toHex(nodeRoot(step.map(op => opLeaf(op, constantRoots)))),
    stepOps: step.length,
    paramSlots,
    initOpsRoot: toHex(nodeRoot(init.map(op => opLeaf(op, constantRoots)))),
    lossOp
  }
}

/** The program hash a job commits to. */
export function programHash (header: ProgramHeader): Hex {
  return keccak256(encodeAbiParameters(
    [{ type: 'bytes32' }, { type: 'uint32' }, { type: 'uint32' }, { type: 'bytes32' }, { type: 'uint32' }],
    [header.stepOpsRoot, header.stepOps, header.paramSlots, header.initOpsRoot, header.lossOp]
  ))
}
