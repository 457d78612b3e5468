import { readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { CID } from 'multiformats/cid'
import { hexToCid, readService, type Clients, type Deployment } from '@commons/chain/core'
import type { AnswerCheck, Receipt } from '@commons/node'
import { openStore, type Store } from '@commons/store'
import { deploymentOf, homeOf, type ChainOptions } from '../chainContext.ts'
import { withChainOptions } from './chain.ts'
import { emit, note, UsageError } from '../output.ts'
import { runByCid, type RunFetcher } from '../runByCid.ts'

/**
 * Checking a paid answer: `commons infer --verify` replays it as it arrives, `commons
 * infer dispute ANSWER.json` replays one saved by `infer --json`. The model replayed is
 * --model (a run directory, or a run CID), else the run the service registered by CID,
 * fetched from the network when this home does not hold it. A wrong token is disputed
 * on-chain (InferenceDisputes) and the game is played to its end by this process; the
 * provider's node answers its side.
 */

/** What `infer --json` writes, and `infer dispute` reads back. */
export interface SavedAnswer {
  prompt: string
  outputTokens: number[]
  receipt: Receipt
}

/** Where a run CID's blocks come from when this home lacks them. */
export interface RunSources {
  store: Store
  network: () => Promise<RunFetcher>
}

/**
 * The run directory to replay `answer` with: `model` when it is a directory, else the run
 * of CID `model`, or of the CID the answer's service registered (the model the provider
 * said it serves; checkAnswer refuses it if its state root is not the receipt's).
 */
async function replayRunOf (options: ChainOptions, components: { clients: Clients, deployment: Deployment }, model: string | undefined, answer: SavedAnswer, sources: RunSources): Promise<string> {
  if (model !== undefined && await stat(model).then(s => s.isDirectory(), () => false)) return resolve(model)
  let cid = model
  if (cid === undefined) {
    const service = await readService(components.clients, components.deployment, BigInt(answer.receipt.service))
    cid = hexToCid(service.modelCid)?.toString()
    if (cid === undefined) throw new UsageError(`service ${service.id} registered no model CID to replay its answers with`, { hint: 'pass --model RUN, the run directory it serves' })
  }
  try {
    CID.parse(cid)
  } catch (cause) {
    throw new UsageError(`--model ${cid} is neither a run directory nor a CID`, { hint: 'pass the --out directory of commons train, or the CID of a published run', cause })
  }
  return runByCid(cid, { ...sources, dir: join(homeOf(options), 'models'), log: line => { note(options, line) } })
}

/** Replays `answer` with its model (see replayRunOf) and disputes a wrong token; progress as notes. */
export async function verifyAnswer (options: ChainOptions, components: { clients: Clients, deployment: Deployment }, modelRef: string | undefined, answer: SavedAnswer, sources: RunSources): Promise<AnswerCheck> {
  const { checkAnswer, loadServedModel, replayModelOf, signedAnswer, tokensHash } = await import('@commons/node')
  const model = await loadServedModel(await replayRunOf(options, components, modelRef, answer, sources))
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
    .description('replay a saved answer with its model (--model RUN|CID, else the service\'s model CID, fetched if not held), and dispute it on-chain if a token differs (played to the end)')
    .action(async (file: string, _opts: unknown, command: Command) => {
      // --model is `infer`'s own option (the run to replay with), read from the parent here.
      const options = command.optsWithGlobals<ChainOptions & { model?: string }>()
      const saved = JSON.parse(await readFile(file, 'utf8').catch((cause: unknown) => {
        throw new UsageError(`cannot read ${file}`, { hint: 'save an answer with commons infer ... --json > answer.json', cause })
      })) as Partial<SavedAnswer>
      if (typeof saved.prompt !== 'string' || !Array.isArray(saved.outputTokens) || saved.receipt === undefined) {
        throw new UsageError(`${file} is not an answer saved by commons infer --json`, { hint: 'it needs prompt, outputTokens and receipt' })
      }
      const components = await deploymentOf(options)
      const check = await withRunSources(options, components, saved as SavedAnswer, async sources => verifyAnswer(options, components, options.model, saved as SavedAnswer, sources))
      emit(options, check, () => check.dispute === undefined ? 'the answer replays: nothing to dispute' : `dispute ${check.dispute.id}: ${check.dispute.winner ?? 'undecided'} won (${check.dispute.reason}), ${check.dispute.moves.length} moves, at most ${check.dispute.maxGas} gas a move`)
    })
}

/** This home's store, and a network started only if a run must be fetched: it dials the answer's provider (its service's libp2p endpoint). */
async function withRunSources<T> (options: ChainOptions, components: { clients: Clients, deployment: Deployment }, answer: SavedAnswer, use: (sources: RunSources) => Promise<T>): Promise<T> {
  const { startNetwork } = await import('@commons/node')
  const store = await openStore(homeOf(options))
  let network: Awaited<ReturnType<typeof startNetwork>> | undefined
  try {
    return await use({
      store,
      network: async () => {
        const service = await readService(components.clients, components.deployment, BigInt(answer.receipt.service))
        const bootstrap = service.endpoint.split(/\s+/).filter(e => e.startsWith('/'))
        return (network ??= await startNetwork({ blockstore: store.blocks, bootstrap }))
      }
    })
  } finally {
    await network?.stop()
    await store.close()
  }
}
