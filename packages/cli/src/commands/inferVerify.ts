import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { Clients, Deployment } from '@commons/chain'
import type { AnswerCheck, Receipt } from '@commons/node'
import { deploymentOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit, note, UsageError } from '../output.ts'

/**
 * Checking a paid answer: `commons infer --verify --model RUN` replays it as it arrives,
 * `commons infer dispute ANSWER.json --model RUN` replays one saved by `infer --json`.
 * A wrong token is disputed on-chain (InferenceDisputes) and the game is played to its
 * end by this process; the provider's node answers its side.
 */

/** What `infer --json` writes, and `infer dispute` reads back. */
export interface SavedAnswer {
  prompt: string
  outputTokens: number[]
  receipt: Receipt
}

/** Replays `answer` with the run in `dir` and disputes a wrong token; progress as notes. */
export async function verifyAnswer (options: ChainOptions, components: { clients: Clients, deployment: Deployment }, dir: string, answer: SavedAnswer): Promise<AnswerCheck> {
  const { checkAnswer, loadServedModel, replayModelOf, signedAnswer, tokensHash } = await import('@commons/node')
  const model = await loadServedModel(resolve(dir))
  const prompt = model.encode(answer.prompt)
  if (tokensHash(prompt) !== answer.receipt.promptHash) {
    throw new UsageError('the prompt does not hash to the receipt\'s prompt hash with this model\'s tokenizer', { hint: 'pass the run the service serves (--model) and the prompt as it was sent' })
  }
  note(options, `replaying the answer with ${model.name} (${answer.outputTokens.length} tokens)`)
  const check = await checkAnswer(components, await replayModelOf(model.dir, model.recipe), signedAnswer(answer.receipt, prompt, answer.outputTokens), {
    onMove: move => { note(options, `  ${move.name} (${move.gas} gas)`) }
  })
  if (check.wrongToken < 0) note(options, 'every token replays the same: the answer is the model\'s')
  else note(options, `token ${check.wrongToken} differs from the replay: disputed on-chain, ${check.dispute?.winner ?? 'not yet decided'} won`)
  return check
}

export function inferDisputeCommand (infer: Command): void {
  withChainOptions(infer.command('dispute').argument('<answer.json>', 'an answer saved by commons infer --json'))
    .description('replay a saved answer with --model RUN, and dispute it on-chain if a token differs (played to the end)')
    .action(async (file: string, _opts: unknown, command: Command) => {
      // --model is `infer`'s own option (the run to replay with), read from the parent here.
      const options = command.optsWithGlobals<ChainOptions & { model?: string }>()
      if (options.model === undefined) throw new UsageError('infer dispute replays the answer with the model: pass --model RUN', { hint: 'the run directory the service serves (commons train --out)' })
      const saved = JSON.parse(await readFile(file, 'utf8').catch((cause: unknown) => {
        throw new UsageError(`cannot read ${file}`, { hint: 'save an answer with commons infer ... --json > answer.json', cause })
      })) as Partial<SavedAnswer>
      if (typeof saved.prompt !== 'string' || !Array.isArray(saved.outputTokens) || saved.receipt === undefined) {
        throw new UsageError(`${file} is not an answer saved by commons infer --json`, { hint: 'it needs prompt, outputTokens and receipt' })
      }
      const check = await verifyAnswer(options, await deploymentOf(options), options.model, saved as SavedAnswer)
      emit(options, check, () => check.dispute === undefined ? 'the answer replays: nothing to dispute' : `dispute ${check.dispute.id}: ${check.dispute.winner ?? 'undecided'} won (${check.dispute.reason}), ${check.dispute.moves.length} moves, at most ${check.dispute.maxGas} gas a move`)
    })
}
