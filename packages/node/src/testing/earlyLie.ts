import { answerWindow } from '@commons/chain'
import { traceForward, type EngineContext, type Recipe, type Tensor } from '@commons/engine'

export interface EarlyLie {
  /** One element of one op corrupted in the provider's forward. */
  fault: { op: number, element: number }
  /** The greedy answer the corrupted forward gives (not the honest one). */
  output: number[]
}

/**
 * A lie in an early op of the forward (not the last ops, the pick) that changes a greedy
 * answer of `tokens` tokens to `prompt`: the first op from 2 whose first element,
 * corrupted, does. A dispute of it must walk the game to that op. Undefined when no
 * such op changes the answer. `ops` is the forward program's op count for the prompt.
 */
export function earlyLie (ctx: EngineContext, recipe: Recipe, weights: readonly Tensor[], prompt: number[], ops: number, tokens = 4): EarlyLie | undefined {
  const answer = (fault?: EarlyLie['fault']): number[] => {
    const out: number[] = []
    for (let i = 0; i < tokens; i++) out.push(traceForward(ctx, recipe, weights, answerWindow({ prompt, output: out }, i, recipe.model.context), { fault }).token)
    return out
  }
  const honest = answer().join()
  for (let op = 2; op < ops - 2; op++) {
    const fault = { op, element: 0 }
    const output = answer(fault)
    if (output.join() !== honest) return { fault, output }
  }
  return undefined
}
