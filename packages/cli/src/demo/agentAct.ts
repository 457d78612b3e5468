import type { LocalAccount } from 'viem'
import type { Deployment } from '@commons/chain/core'
import type { CommonsNode } from '@commons/node'
import { briefResult } from '../output.ts'
import {
  BUNDLED_AGENT_MODEL, commonsAgentTools, commonsTools, openAgent, putNote, startA2a, toolContext, type A2aNode, narrowArguments
} from '@commons/agent'

/**
 * The demo's agent act (on by default, `commons demo --no-agent` skips it): after the
 * model is verified, the user's agent (the curator's node) answers with its tools: the
 * price from the chain's feed, the verified job's dataset and checkers from the chain,
 * and a question put over libp2p to the validator's agent, which answers from a note it
 * shared and cites it by CID. The model is any GGUF; by default the one shipped in the
 * repo (packages/agent/model/agent.gguf).
 */

export interface AgentActParams {
  /** The user's node: its agent asks. */
  user: CommonsNode
  /** Another node: its agent answers from the notes it holds. */
  peer: CommonsNode
  deployment: Deployment
  /** The job whose model was verified, and every job of the chain. */
  job: bigint
  jobs: readonly bigint[]
  /** The disputes of the run, said in the peer's note. */
  disputes: Array<{ job: string, step: number | 'init', winner: string }>
  modelPath?: string
  say: (line: string) => void
  until: (what: string, check: () => Promise<boolean>, timeoutMs?: number) => Promise<void>
}

export interface AgentToolCall {
  name: string
  arguments: Record<string, unknown>
  result: unknown
  isError: boolean
}

export interface AgentSummary {
  model: string
  questions: Array<{ question: string, toolCalls: AgentToolCall[], answer: string }>
  /** The note the peer's agent shared, and the CIDs the answers from other agents cited. */
  note: string
  cites: string[]
  seconds: number
}

/** The names the agents go by on their cards (the question to the peer names it). */
const USER_AGENT = 'curator'
const PEER_AGENT = 'validator'

/** The demo's questions: phrased as the generated tool-use dialogues phrase them, so any model trained on those can answer. */
/** What the user's agent asks the peer's agent: the note the peer holds answers it. */
const PEER_QUESTION = 'What do you know about disputes?'

export const agentQuestions = (job: bigint): string[] => [
  'What is the ETH price now?',
  `Which dataset was job ${job} trained on, and who checked it?`,
  `Ask ${PEER_AGENT} about disputes.`
]

function disputesNote (disputes: AgentActParams['disputes']): { title: string, text: string, tags: string[] } {
  const lines = disputes.map(d => `Job ${d.job} was disputed at step ${d.step}; the ${d.winner} won, so its trainer was slashed.`)
  return { title: 'Disputes of the demo run', text: lines.length === 0 ? 'No job was disputed.' : lines.join(' '), tags: ['disputes', 'validator'] }
}

export async function runAgentAct (p: AgentActParams): Promise<AgentSummary> {
  const started = Date.now()
  const { user, peer, say } = p
  say(`[agent] the ${PEER_AGENT}'s agent shares a note; the user's agent answers with its tools`)
  const note = await putNote(peer.store, peer.clients.account as LocalAccount, disputesNote(p.disputes))
  say(`      note ${note.cid}`)
  const a2a: A2aNode[] = []
  let agent: Awaited<ReturnType<typeof openAgent>> | undefined
  try {
    // Cards and notes every second: the demo does not wait out the 30 s a node uses.
    for (const [node, name] of [[peer, PEER_AGENT], [user, USER_AGENT]] as const) {
      a2a.push(await startA2a({ network: node.network, store: node.store, account: node.clients.account as LocalAccount, name, intervalMs: 1000 }))
    }
    const mine = a2a[1]
    await p.until(`the ${PEER_AGENT}'s agent card to reach the user's node`, async () => mine.cards.find(PEER_AGENT) !== undefined, 60_000)
    // The node's own tools on its own store and chain; the store stays the node's (no ctx.close).
    const ctx = toolContext({
      openStore: async () => user.store,
      connectChain: async () => ({ clients: user.clients, deployment: p.deployment }),
      signer: async () => user.clients.account as LocalAccount,
      agents: async () => mine.reach
    })
    // The model chooses the tools; the arguments the questions name are narrowed to what they
    // name (it does not copy numbers or free text from a question: docs/agent.md).
    agent = await openAgent({ modelPath: p.modelPath ?? BUNDLED_AGENT_MODEL, tools: narrowArguments(commonsAgentTools(commonsTools, ctx), {
      job_show: { id: p.jobs.map(Number) },
      agent_ask: { agent: [PEER_AGENT], question: [PEER_QUESTION] }
    }), maxTokens: 200 })
    const questions: AgentSummary['questions'] = []
    for (const question of agentQuestions(p.job)) {
      // Each question on its own: the demo shows tool choice, not a conversation.
      agent.reset()
      const answer = await agent.ask(question)
      const toolCalls = answer.toolCalls.map(c => ({ name: c.name, arguments: c.arguments, result: c.result, isError: c.isError }))
      questions.push({ question, toolCalls, answer: answer.answer })
      // What the tools found; the small model's own words after a result are weak (docs/agent.md) and stay in --json.
      say(`      ${JSON.stringify(question)} -> ${toolCalls.map(c => `${c.name}(${JSON.stringify(c.arguments)}) = ${briefResult(c, 260)}`).join(', ') || 'no tool'}`)
    }
    const cites = [...new Set(questions.flatMap(q => q.toolCalls).filter(c => c.name === 'agent_ask' && !c.isError)
      .flatMap(c => (c.result as { cites?: string[] }).cites ?? []))]
    return { model: agent.model, questions, note: note.cid, cites, seconds: (Date.now() - started) / 1000 }
  } finally {
    await agent?.close()
    for (const node of a2a) await node.stop()
  }
}

