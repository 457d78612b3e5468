import { decodeFunctionData, hexToBytes, type Hex } from 'viem'
import { disputeGameAbi } from '@commons/chain'
import { f32FromBits, opName, REF_KIND_CODE } from '@commons/protocol'
import type { ExplorerContext } from '../context.ts'

/**
 * What a dispute's moves carried beyond their events, read from their transactions'
 * calldata: the pinpointed op (its name, shape and inputs) and the input elements the
 * challenger opened for the verifier, and the element the trainer opened in its reveal.
 * A value is shown as its float32 and its bits (the game compares bits).
 */

const KIND_NAMES = new Map(Object.entries(REF_KIND_CODE).map(([name, code]) => [code, name]))
/** An opening can span many leaves: the page shows its first elements and says how many. */
const SHOWN = 16

export interface ShownValue { bits: string, value: number | null }

/** A 32-bit word as float32 (or int32 for an i32 tensor) and as hex bits. */
export function shownValue (bits: number, dtype = 0): ShownValue {
  const word = bits >>> 0
  const value = dtype === 1 ? word | 0 : f32FromBits(word)
  return { bits: `0x${word.toString(16).padStart(8, '0')}`, value: Number.isFinite(value) ? value : null }
}

function words (hex: string, dtype: number): { count: number, first: ShownValue[] } {
  const bytes = hexToBytes(hex as Hex)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const count = bytes.length / 4
  const first: ShownValue[] = []
  for (let i = 0; i < Math.min(count, SHOWN); i++) first.push(shownValue(view.getUint32(i * 4), dtype))
  return { count, first }
}

interface OpeningArg { length: bigint, dtype: number, firstLeaf: bigint, words: Hex }
interface OpArg { code: number, dtype: number, dims: readonly number[], inputs: ReadonlyArray<{ kind: number, index: number }>, attrs: readonly number[] }

function shownOp (op: OpArg) {
  return {
    code: op.code, name: opName(op.code) ?? `op ${op.code}`, dtype: op.dtype === 1 ? 'i32' : 'f32', dims: [...op.dims], attrs: [...op.attrs],
    inputs: op.inputs.map(i => ({ kind: KIND_NAMES.get(i.kind) ?? String(i.kind), index: i.index }))
  }
}

function shownOpening (o: OpeningArg) {
  return { tensorLength: Number(o.length), dtype: o.dtype === 1 ? 'i32' : 'f32', firstLeaf: Number(o.firstLeaf), ...words(o.words, o.dtype) }
}

/** The decoded call of one move's transaction: what the pinpoint proved, what the reveal opened. */
export async function moveCall (ctx: ExplorerContext, tx: string) {
  const { input, to } = await ctx.clients.public.getTransaction({ hash: tx as Hex })
  // A move made through another contract (a wallet) carries calldata this ABI does not read.
  if (to?.toLowerCase() !== ctx.deployment.contracts.disputeGame.toLowerCase()) return null
  let call
  try {
    call = decodeFunctionData({ abi: disputeGameAbi, data: input })
  } catch {
    return null
  }
  if (call.functionName === 'pinpoint') {
    const p = (call.args as unknown as [bigint, { op: OpArg, element: bigint, openings: readonly OpeningArg[] }])[1]
    return { function: 'pinpoint', op: shownOp(p.op), element: Number(p.element), openings: p.openings.map(shownOpening) }
  }
  if (call.functionName === 'pinpointLoss') {
    const op = (call.args as unknown as [bigint, OpArg])[1]
    return { function: 'pinpointLoss', op: shownOp(op), element: 0, openings: [] }
  }
  if (call.functionName === 'reveal') {
    const opening = (call.args as unknown as [bigint, OpeningArg])[1]
    return { function: 'reveal', opening: shownOpening(opening) }
  }
  return { function: call.functionName }
}
