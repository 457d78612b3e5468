import { parseEther } from 'viem'
import {
  claimValidatorReward, commitWeights, epochAt, liveServices, readEpoch, readScoringSchedule, revealWeights, settleEpoch,
  type Clients, type Deployment, type ScoringSchedule, type WeightCommitment
} from '@commons/chain'
import { referenceContext, type EngineContext } from '@commons/engine'
import type { NetworkNode } from '../network.ts'
import { checkAnswer, replayModelOf, signedAnswer, type AnswerCheck, type ReplayModel } from '../generationCheck.ts'
import { ProbePayer, probeService, type ProbeOutcome } from '../probe.ts'
import { median, weightsFromScores, type ServiceScore } from '../scoreWeights.ts'
import type { ServedModel } from '../servedModel.ts'

/**
 * The scorer: a validator's service that scores inference providers for ScoringEpochs.
 * During an epoch's commit phase it sends paid probes to every live service (probe.ts),
 * replays each answer on its own copy of the model, derives weights from correctness,
 * availability and latency (scoreWeights.ts) and commits them hidden; in the reveal phase
 * it reveals them; once the epoch is over it settles it and claims its reward. Its stake
 * and validator role are the StakeRegistry's (registered beforehand, as for validating jobs).
 */

export interface ScorerComponents {
  clients: Clients
  deployment: Deployment
  network: NetworkNode
  /** What replays answers (default: the reference kernels: correctness is bit for bit). */
  engine?: EngineContext
}

export interface ScorerInit {
  /** The scorer's copies of the models it can check, matched to services by state root. */
  references: ServedModel[]
  /** Probes per service in one round, and tokens per probe. */
  probesPerService?: number
  tokensPerProbe?: number
  /** Deposit of each channel the scorer opens to a provider, and how long it lasts. */
  deposit?: bigint
  channelSeconds?: bigint
  /** Most milliseconds a provider may take to answer a probe before it counts as down. */
  probeTimeoutMs?: number
  /** Milliseconds between looks at the chain's clock; 0: never (the caller drives `tick` or the steps). */
  pollMs?: number
  /**
   * Dispute on-chain every probe answer (greedy or sampled) whose tokens the model does not make
   * (generationCheck.ts), with the reference's run directory (its last checkpoint);
   * the disputes are played in the background, `disputes()` says how they ended.
   */
  dispute?: boolean
  /** Share of probes sampled under a seed, the rest greedy (default one half). */
  sampledShare?: number
  log?: (line: string) => void
}

export const DEFAULT_PROBES_PER_SERVICE = 3
export const DEFAULT_TOKENS_PER_PROBE = 16
export const DEFAULT_PROBE_TIMEOUT_MS = 30_000

export interface Scorer {
  /** One round of probes over every live service, added to the current epoch's tally. */
  probeAll(): Promise<ProbeOutcome[]>
  /** The tally so far, per service. */
  scores(): ServiceScore[]
  /** Commits weights from the tally for `epoch` (and starts a new tally). */
  commit(epoch: bigint): Promise<WeightCommitment>
  /** Reveals what was committed for `epoch`. */
  reveal(epoch: bigint): Promise<void>
  /** Settles `epoch` if nobody has, and claims this validator's reward of it (what it got, 0n for none). */
  settleAndClaim(epoch: bigint): Promise<bigint>
  /** Does what the chain's clock calls for now: probe and commit, reveal, or settle and claim the last epoch. */
  tick(): Promise<void>
  /** The disputes it opened over wrong answers (with `dispute`), as they stand. */
  disputes(): Promise<AnswerCheck[]>
  stop(): Promise<void>
}

export function startScorer (components: ScorerComponents, init: ScorerInit): Scorer {
  const { clients, deployment, network } = components
  const engine = components.engine ?? referenceContext()
  const log = init.log ?? (() => {})
  const me = clients.account.address
  const payer = new ProbePayer(clients, deployment, init.deposit ?? parseEther('1'), init.channelSeconds ?? 7n * 86_400n)
  const references = new Map(init.references.map(m => [m.root, m]))
  const probesPerService = init.probesPerService ?? DEFAULT_PROBES_PER_SERVICE
  const tokensPerProbe = init.tokensPerProbe ?? DEFAULT_TOKENS_PER_PROBE
  let tally: ProbeOutcome[] = []
  const committed = new Map<bigint, WeightCommitment>()
  const settled = new Set<bigint>()
  let schedule: ScoringSchedule | null = null

  async function probeAll (): Promise<ProbeOutcome[]> {
    const outcomes: ProbeOutcome[] = []
    for (const service of await liveServices(clients, deployment)) {
      if (service.provider.toLowerCase() === me.toLowerCase()) continue // no scoring of oneself
      const deps = { network, payer, engine, reference: references.get(service.modelRoot), timeoutMs: init.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, sampledShare: init.sampledShare }
      for (let i = 0; i < probesPerService; i++) {
        const outcome = await probeService(deps, service, tokensPerProbe)
        if (outcome.reason !== undefined) log(`service ${service.id}: ${outcome.reason}`)
        outcomes.push(outcome)
      }
    }
    tally.push(...outcomes)
    if (init.dispute === true) for (const o of outcomes) if (o.wrong !== undefined) disputing.push(disputeWrong(o.wrong))
    return outcomes
  }

  const disputing: Array<Promise<AnswerCheck | null>> = []
  const replays = new Map<string, Promise<ReplayModel>>()
  /** Replays a wrong answer (greedy or sampled) with the reference's run and plays its dispute to the end (null: it could not be opened). */
  async function disputeWrong (wrong: NonNullable<ProbeOutcome['wrong']>): Promise<AnswerCheck | null> {
    const reference = references.get(wrong.receipt.modelRoot)
    if (reference === undefined) return null
    try {
      let replay = replays.get(reference.root)
      if (replay === undefined) replays.set(reference.root, replay = replayModelOf(reference.dir, reference.recipe, engine))
      const check = await checkAnswer({ clients, deployment }, await replay, signedAnswer(wrong.receipt, wrong.prompt, wrong.output))
      if (check.dispute !== undefined) log(`disputed a wrong answer of service ${wrong.receipt.service}: ${check.dispute.winner ?? 'undecided'} won (${check.dispute.reason})`)
      return check
    } catch (error) {
      log(`could not dispute a wrong answer of service ${wrong.receipt.service}: ${(error as Error).message}`)
      return null
    }
  }

  function scores (): ServiceScore[] {
    const byService = new Map<bigint, ProbeOutcome[]>()
    for (const o of tally) byService.set(o.service, [...(byService.get(o.service) ?? []), o])
    return [...byService.entries()].map(([service, os]) => ({
      service,
      sent: os.length,
      answered: os.filter(o => o.answered).length,
      correct: os.filter(o => o.correct).length,
      wrong: os.filter(o => o.answered && !o.correct).length,
      medianLatencyMs: median(os.filter(o => o.answered).map(o => o.latencyMs))
    }))
  }

  async function commit (epoch: bigint): Promise<WeightCommitment> {
    const weights = weightsFromScores(scores())
    const c = await commitWeights(clients, deployment, epoch, weights)
    committed.set(epoch, c)
    tally = []
    log(`epoch ${epoch}: committed weights ${weights.map(w => `${w.service}:${w.weight}`).join(' ')}`)
    return c
  }

  async function reveal (epoch: bigint): Promise<void> {
    const c = committed.get(epoch)
    if (c === undefined) return
    await revealWeights(clients, deployment, c)
    committed.delete(epoch)
    log(`epoch ${epoch}: revealed`)
  }

  async function settleAndClaim (epoch: bigint): Promise<bigint> {
    const before = await readEpoch(clients, deployment, epoch)
    if (!before.settled) await settleEpoch(clients, deployment, epoch)
    settled.add(epoch)
    const mine = (await readEpoch(clients, deployment, epoch)).validatorPayouts.find(v => v.validator.toLowerCase() === me.toLowerCase())
    if (mine === undefined || mine.payout === 0n) return 0n
    await claimValidatorReward(clients, deployment, epoch, me).catch((error: unknown) => {
      if ((error as { details?: { error?: string } }).details?.error !== 'AlreadyClaimed') throw error
    })
    log(`epoch ${epoch}: claimed ${mine.payout}`)
    return mine.payout
  }

  async function tick (): Promise<void> {
    schedule ??= await readScoringSchedule(clients, deployment)
    const now = (await clients.public.getBlock({ blockTag: 'latest' })).timestamp
    const { epoch, phase } = epochAt(schedule, now)
    if (phase === 'commit' && !committed.has(epoch)) {
      await probeAll()
      await commit(epoch)
    } else if (phase === 'reveal' && committed.has(epoch)) {
      await reveal(epoch)
    }
    // The epoch before is over: settle it (anyone may) and take this validator's share.
    if (epoch > 0n && !settled.has(epoch - 1n)) await settleAndClaim(epoch - 1n)
  }

  let running: Promise<void> = Promise.resolve()
  const pollMs = init.pollMs ?? 10_000
  const timer = pollMs > 0
    ? setInterval(() => {
      running = running.then(tick).catch((error: unknown) => { log(`scoring: ${(error as Error).message}`) })
    }, pollMs)
    : null

  return {
    probeAll,
    scores,
    commit,
    reveal,
    settleAndClaim,
    tick: async () => {
      const run = running.then(tick)
      running = run.catch(() => {})
      return run
    },
    disputes: async () => (await Promise.all(disputing)).filter((c): c is AnswerCheck => c !== null),
    async stop () {
      if (timer !== null) clearInterval(timer)
      await running
      await Promise.all(disputing)
    }
  }
}
