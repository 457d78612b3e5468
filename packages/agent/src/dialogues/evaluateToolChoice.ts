import { isDeepStrictEqual } from 'node:util'
import { z } from 'zod'
import { openAgent, type AgentInit } from '../agent/openAgent.ts'
import { dropNulls } from '../agent/gbnfSchema.ts'
import type { AgentTool } from '../agent/agentTool.ts'
import { parseArguments } from '../callTool.ts'
import type { CommonsTool } from '../tool.ts'
import type { Dialogue } from './renderDialogue.ts'

export interface ToolChoiceScore {
  questions: number
  /** The first call named the dialogue's tool. */
  rightTool: number
  /** ... and its arguments pass the tool's schema. */
  validArguments: number
  /** ... and they are the dialogue's arguments exactly. */
  exactArguments: number
  /** The text after the tool's result is the dialogue's answer (a short sentence restating the result), word for word. */
  restatedAnswers: number
  medianFirstTokenMs: number
  /** Tokens written per second of answering, tool calls included. */
  tokensPerSecond: number
  misses: Array<{ question: string, expected: string, called: string | null }>
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]
}

/**
 * Asks the model each dialogue's question in a fresh conversation and scores its first
 * tool call. The tools answer the dialogue's own result (so nothing runs against a chain
 * or a store, and the model's continuation sees what it was trained on); a signing tool
 * is allowed, since choosing it is what is measured.
 */
export async function evaluateToolChoice (init: Omit<AgentInit, 'tools' | 'allowSigning'>, tools: readonly CommonsTool[], dialogues: readonly Dialogue[]): Promise<ToolChoiceScore> {
  let current: Dialogue | undefined
  const agentTools: AgentTool[] = tools.map(tool => ({
    name: tool.name,
    description: tool.description,
    inputSchema: z.toJSONSchema(z.object(tool.input)) as Record<string, unknown>,
    effect: tool.effect,
    call: async () => ({ isError: false, text: JSON.stringify(current?.result ?? null) })
  }))
  const agent = await openAgent({ ...init, tools: agentTools, allowSigning: true })
  const score: ToolChoiceScore = { questions: 0, rightTool: 0, validArguments: 0, exactArguments: 0, restatedAnswers: 0, medianFirstTokenMs: 0, tokensPerSecond: 0, misses: [] }
  const firstTokens: number[] = []
  let tokens = 0
  let ms = 0
  try {
    for (const dialogue of dialogues) {
      current = dialogue
      agent.reset()
      const answer = await agent.ask(dialogue.question)
      score.questions++
      if (answer.firstTokenMs !== null) firstTokens.push(answer.firstTokenMs)
      tokens += answer.tokens.output
      ms += answer.totalMs
      const call = answer.toolCalls[0]
      const expected = dialogue.call?.name ?? ''
      if (call?.name !== expected) {
        score.misses.push({ question: dialogue.question, expected, called: call?.name ?? null })
        continue
      }
      score.rightTool++
      const tool = tools.find(t => t.name === call.name) as CommonsTool
      try {
        parseArguments(tool, call.arguments)
      } catch {
        continue
      }
      score.validArguments++
      if (isDeepStrictEqual(call.arguments, dropNulls(dialogue.call?.params))) score.exactArguments++
      if (answer.answer.trim() === dialogue.answer) score.restatedAnswers++
    }
  } finally {
    await agent.close()
  }
  score.medianFirstTokenMs = median(firstTokens)
  score.tokensPerSecond = ms === 0 ? 0 : tokens / (ms / 1000)
  return score
}
