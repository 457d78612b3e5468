import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { challengeModelFile, challengeModelHeader, findModelFileLie, headerMatches, MODEL_FILE } from '@commons/chain'
import { runStateAt, stateSlots, type ModelFileTemplate, type Program, type TokenWindows } from '@commons/engine'
import type { TranscriptRecord } from '@commons/protocol'
import type { Hex } from 'viem'
import { timed, type Context } from './context.ts'

/** What the validator already holds of a run when it checks the model file. */
export interface ModelFileRun {
  jobId: bigint
  /** The fetched run directory and its CID. */
  dir: string
  runCid: CID
  tokens: TokenWindows
  program: Program
  records: readonly TranscriptRecord[]
  steps: number
  /** The header the job binds (`modelFileTemplate` of the job's recipe and tokens root), and the submitted transcript root. */
  template: ModelFileTemplate
  transcriptRoot: Hex
}

/**
 * Checks that the run's model.safetensors has the header its job binds (filled with S_T's
 * and the transcript's roots) and the length it gives, then that it holds S_T's parameters (the state of the last
 * record, already checked to replay), weight by weight as ModelFileDisputes reads the
 * file. A file that departs is challenged on-chain at the first weight that differs (or
 * that it lacks): the trainer is slashed in one call. Returns true when the file holds
 * S_T, false when this validator convicted it (it then does not attest).
 */
export async function checkModelFile (ctx: Context, run: ModelFileRun): Promise<boolean> {
  const { jobId } = run
  const file = await readFile(join(run.dir, MODEL_FILE)).catch(() => undefined)
  const last = run.records[run.records.length - 1]
  if (file !== undefined && !headerMatches(file, run.template, last.state, run.transcriptRoot)) {
    ctx.log(`job ${jobId}: ${MODEL_FILE} does not have the header or length its job binds; challenging it`)
    const input = { jobId, template: run.template, records: run.records, transcriptRoot: run.transcriptRoot }
    const convicted = await timed(ctx, 'chain', async () => challengeModelHeader(ctx.clients, ctx.options.deployment, ctx.store.blocks, run.runCid, input))
    ctx.state.setJob(jobId, 'validator', 'disputed', { modelFile: { header: true, number: convicted.number, fault: convicted.fault, gas: String(convicted.gas) } })
    ctx.log(`job ${jobId}: model file header convicted (dispute ${convicted.number} in the market, ${convicted.gas} gas)`)
    return false
  }
  const state = await runStateAt(ctx.engine, run.dir, run.tokens, run.steps)
  const slots = stateSlots(state)
  const lie = findModelFileLie(file, slots.slice(0, run.program.paramSlots))
  if (lie === null) return true
  ctx.log(`job ${jobId}: ${MODEL_FILE} does not hold S_T's weight ${lie.element} of parameter ${lie.slot}; challenging it`)
  const input = { jobId, header: run.program.header, records: run.records, slots, ...lie }
  const convicted = await timed(ctx, 'chain', async () => challengeModelFile(ctx.clients, ctx.options.deployment, ctx.store.blocks, run.runCid, input))
  ctx.state.setJob(jobId, 'validator', 'disputed', { modelFile: { ...lie, number: convicted.number, fault: convicted.fault, gas: String(convicted.gas) } })
  ctx.log(`job ${jobId}: model file convicted (dispute ${convicted.number} in the market, ${convicted.gas} gas)`)
  return false
}
