import { BaseError } from '@commons/errors'
import { random32 } from '@commons/protocol'
import {
  compileProgram, faultChangesState, initialState, paramSpecs, stateSlots, trainStep, type EngineContext, type Recipe, type RunFault, type Tensor, type TokenWindows, type TrainState
} from '@commons/engine'

export class FaultSpecError extends BaseError {
  override name = 'FaultSpecError'
}

/**
 * A fault as the CLI takes it: parts left out are drawn from the seed when a job starts.
 * `withhold`: the trainer publishes no op trace when disputed (data availability is then
 * forced on-chain). `badtrace`: it publishes an op trace that is not the one it posts (one
 * value of every op changed: the challenger must walk the values on-chain). `hide`: it
 * serves no run at all, submitting the run's CID while keeping its blocks to itself (its
 * transcript is then forced out by queries).
 */
export type FaultSpec = ({ kind: 'step', step?: number, op?: number, element?: number } | { kind: 'init', slot?: number, element?: number } | { kind: 'model', slot?: number, element?: number } | { kind: 'header', slot?: number } | { kind: 'loss', step?: number }) & { seed: number, withhold?: boolean, badTrace?: boolean, hide?: boolean }

/** The kinds a fault can name first; `step=...` alone is a step fault. */
const FAULT_KINDS = ['step', 'init', 'loss', 'model', 'header'] as const

const FAULT_HINT = 'write --fault step=T,op=I,element=E (parts optional), --fault init[,slot=S,element=E] --fault loss[,step=T], --fault model[,slot=S,element=E] or --fault header[,slot=S]; add ,withhold to publish no trace, ,badtrace to publish a trace unlike the one posted, ,hide to serve no run'

/**
 * Parses `--fault step=T,op=I,element=E` (any part may be left out; `--fault step`
 * draws them all), `--fault init` (optionally `init,slot=S,element=E`) or `--fault loss`
 * (a lie about the loss of step T alone) or `--fault model` (optionally `model,slot=S,element=E`:
 * one weight of model.safetensors not S_T's) or `--fault header` (optionally `header,slot=S`:
 * parameter S's name swapped with another's in the file's header, every weight at its
 * offset), each optionally with `,withhold`, `,badtrace` and `,hide`.
 */
export function parseFault (text: string, seed = 1): FaultSpec {
  const [head, ...rest] = text.split(',').map(s => s.trim()).filter(s => s !== '')
  const parts: Record<string, number> = {}
  const named = (FAULT_KINDS as readonly string[]).includes(head)
  const kind = named ? head as FaultSpec['kind'] : 'step'
  let withhold = false
  let hide = false
  let badTrace = false
  for (const part of named ? rest : [head, ...rest]) {
    if (part === 'withhold') { withhold = true; continue }
    if (part === 'hide') { hide = true; continue }
    if (part === 'badtrace') { badTrace = true; continue }
    const match = /^(step|op|element|slot)=(\d+)$/.exec(part ?? '')
    if (match === null) throw new FaultSpecError(`"${part ?? ''}" is not a fault part`, { hint: FAULT_HINT })
    parts[match[1]] = Number(match[2])
  }
  if ((kind === 'init' || kind === 'model') && (parts.step !== undefined || parts.op !== undefined)) throw new FaultSpecError(`a${kind === 'init' ? 'n' : ''} ${kind} fault has no step or op`, { hint: FAULT_HINT })
  if (kind === 'step' && parts.slot !== undefined) throw new FaultSpecError('a step fault has no slot', { hint: FAULT_HINT })
  if (kind === 'header' && (parts.step !== undefined || parts.op !== undefined || parts.element !== undefined)) throw new FaultSpecError('a header fault has only a slot', { hint: FAULT_HINT })
  if (kind === 'loss' && (parts.op !== undefined || parts.slot !== undefined || parts.element !== undefined)) throw new FaultSpecError('a loss fault has only a step', { hint: FAULT_HINT })
  const common = { seed, ...(withhold ? { withhold } : {}), ...(badTrace ? { badTrace } : {}), ...(hide ? { hide } : {}) }
  if (kind === 'init') return { kind, slot: parts.slot, element: parts.element, ...common }
  if (kind === 'model') return { kind, slot: parts.slot, element: parts.element, ...common }
  if (kind === 'header') return { kind, slot: parts.slot, ...common }
  if (kind === 'loss') return { kind, step: parts.step, ...common }
  return { kind, step: parts.step, op: parts.op, element: parts.element, ...common }
}

/**
 * The concrete fault for a recipe: parts left out are drawn from the seed; a drawn op
 * is one whose corruption reaches the next state (corrupting a value nothing reads is
 * not a lie anyone could catch).
 */
export function resolveFault (engine: EngineContext, spec: FaultSpec, recipe: Recipe, tokens: TokenWindows, base?: readonly Tensor[]): RunFault {
  if (spec.kind === 'init') {
    const slots = stateSlots(initialState(recipe, base))
    const slot = spec.slot ?? random32(spec.seed, 11, 0) % paramSpecs(recipe.model).length
    if (slot >= slots.length) throw new FaultSpecError(`slot ${slot} does not exist: the state has ${slots.length}`)
    return { kind: 'init', slot, element: (spec.element ?? random32(spec.seed, 12, 0)) % slots[slot].size }
  }
  if (spec.kind === 'model') {
    const specs = paramSpecs(recipe.model)
    const slot = spec.slot ?? random32(spec.seed, 16, 0) % specs.length
    if (slot >= specs.length) throw new FaultSpecError(`parameter ${slot} does not exist: the model has ${specs.length}`)
    const size = specs[slot].shape.reduce((a, b) => a * b, 1)
    return { kind: 'model', slot, element: (spec.element ?? random32(spec.seed, 17, 0)) % size }
  }
  if (spec.kind === 'header') {
    const params = paramSpecs(recipe.model).length
    const slot = spec.slot ?? random32(spec.seed, 18, 0) % params
    if (slot >= params) throw new FaultSpecError(`parameter ${slot} does not exist: the model has ${params}`)
    return { kind: 'header', slot }
  }
  const step = spec.step ?? random32(spec.seed, 13, 0) % recipe.steps
  if (spec.kind === 'loss') {
    // A loss lie may name the last record (step = steps: its evaluation loss).
    if (step > recipe.steps) throw new FaultSpecError(`step ${step} is past the last record (${recipe.steps})`)
    return { kind: 'loss', step }
  }
  if (step >= recipe.steps) throw new FaultSpecError(`step ${step} is past the last step (${recipe.steps - 1})`)
  const ops = compileProgram(engine, recipe, base).step.length
  if (spec.op !== undefined) {
    if (spec.op >= ops) throw new FaultSpecError(`op ${spec.op} does not exist: the step program has ${ops}`)
    return { kind: 'step', step, op: spec.op, element: spec.element ?? random32(spec.seed, 15, 0) }
  }
  // Checked at the step where it fires: whether a corrupted value reaches S_{t+1}
  // depends on the state (a clipped gradient, a zero moment), not only on the program.
  const at = stateAt(engine, recipe, tokens, step, base)
  for (let k = 0; k < 64; k++) {
    const op = random32(spec.seed, 14, k) % ops
    const element = spec.element ?? random32(spec.seed, 15, k)
    if (faultChangesState(engine, recipe, tokens, at, { op, element }, base)) return { kind: 'step', step, op, element }
  }
  return { kind: 'step', step, op: ops - 1, element: spec.element ?? 0 }
}

/** S_step of the honest run (the fault's step comes before any corruption). */
function stateAt (engine: EngineContext, recipe: Recipe, tokens: TokenWindows, step: number, base?: readonly Tensor[]): TrainState {
  const state = initialState(recipe, base)
  while (state.step < step) trainStep(engine, recipe, tokens, state)
  return state
}
