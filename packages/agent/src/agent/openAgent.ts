import { availableParallelism } from 'node:os'
import { basename } from 'node:path'
import { defineChatSessionFunction, getLlama, LlamaChatSession, LlamaLogLevel, type ChatSessionModelFunctions, type Llama, type LlamaModel } from 'node-llama-cpp'
import type { AgentTool } from './agentTool.ts'
import { compactHistory, summaryBound, withSummary, type MemoryOptions } from './boundedMemory.ts'
import { CommonsChatWrapper } from './commonsChatWrapper.ts'
import { dropNulls, toGbnfSchema } from './gbnfSchema.ts'
import { checkGguf } from './modelFile.ts'

export interface ToolCallRecord {
  name: string
  arguments: Record<string, unknown>
  result: unknown
  isError: boolean
}

export interface AgentAnswer {
  answer: string
  toolCalls: ToolCallRecord[]
  model: string
  tokens: { input: number, output: number }
  /** Milliseconds from the question to the model's first token, text or call (null if it wrote none). */
  firstTokenMs: number | null
  /** Milliseconds from the question to the end of the answer, tool calls included. */
  totalMs: number
}

export interface AgentInit {
  modelPath: string
  tools: readonly AgentTool[]
  /** Let tools that sign or spend run without asking. */
  allowSigning?: boolean
  /** Asked before a signing tool runs (unless allowSigning); a missing confirm means no. */
  confirm?: (call: { name: string, arguments: Record<string, unknown> }) => Promise<boolean>
  systemPrompt?: string
  contextSize?: number
  /** Tokens the model may write per answer (default 512). */
  maxTokens?: number
  /** Earlier turns to continue from. */
  history?: ReadonlyArray<{ role: 'user' | 'model', text: string }>
  /** The summary of the turns before `history` (kept by an earlier compaction), and how many turns it covers. */
  summary?: { text: string, turns: number }
  /** Bounded context: older turns replaced by a summary as the context fills (default on); false lets llama.cpp drop the oldest tokens instead. */
  memory?: MemoryOptions | false
  /** CPU threads for llama.cpp (default: one less than the cores, at least 1). */
  threads?: number
  /** 'auto' uses a GPU when there is one; false keeps llama.cpp on the CPU. */
  gpu?: 'auto' | false
}

export interface Agent {
  model: string
  ask: (question: string, options?: { onText?: (text: string) => void, signal?: AbortSignal }) => Promise<AgentAnswer>
  /** Forgets the conversation and its summary (the system prompt stays). */
  reset: () => void
  /** The summary standing for the older turns, how many turns it covers, and how full the context is. */
  memory: () => { summary: string | null, turns: number, contextTokens: number, contextSize: number }
  close: () => Promise<void>
}

export const DEFAULT_SYSTEM_PROMPT = 'You are the agent of a Commons node. Answer from the tools; cite the CIDs you used.'

/** What a declined call tells the model, so it can answer without the tool. */
const DECLINED = 'the user declined this call'

/**
 * Loads a GGUF model and gives it the tools through node-llama-cpp's function calling:
 * the model's arguments are constrained by each tool's schema, a tool's failure reaches
 * the model as text, and a tool that signs runs only when allowed or confirmed.
 */
export async function openAgent (init: AgentInit): Promise<Agent> {
  await checkGguf(init.modelPath)
  const llama: Llama = await getLlama({ gpu: init.gpu ?? 'auto', logLevel: LlamaLogLevel.error })
  let model: LlamaModel
  try {
    model = await llama.loadModel({ modelPath: init.modelPath })
  } catch (error) {
    await llama.dispose()
    throw error
  }
  // At least 2048 tokens: a Commons model trained on a short context still needs room for
  // the tools' results (llama.cpp runs it past its trained length, less well).
  // llama.cpp's threads spin while they wait: more threads than free cores is slower by
  // orders of magnitude on a busy machine (100 tokens of a small model: 64 ms on 1 thread,
  // 112 s on its default 4, with 2 loaded cores).
  const context = await model.createContext({
    contextSize: init.contextSize ?? Math.max(2048, Math.min(model.trainContextSize, 4096)),
    threads: init.threads ?? Math.max(1, availableParallelism() - 1)
  })
  const sequence = context.getSequence()
  // A model with a chat template of its own (any GGUF from elsewhere) keeps it; Commons models have none.
  const template = (model.fileInfo.metadata as { tokenizer?: { chat_template?: string } }).tokenizer?.chat_template
  const systemPrompt = init.systemPrompt ?? DEFAULT_SYSTEM_PROMPT
  let summary = init.summary?.text ?? null
  let summarized = init.summary?.turns ?? 0
  const session = new LlamaChatSession({
    contextSequence: sequence,
    chatWrapper: template !== undefined ? 'auto' : new CommonsChatWrapper(),
    systemPrompt: withSummary(systemPrompt, summary)
  })
  const memory = init.memory ?? {}
  /** Replaces the older turns by a summary when the conversation has filled its share of the context. */
  const bound = async (): Promise<void> => {
    if (memory === false || sequence.nextTokenIndex <= (memory.compactAt ?? 0.6) * context.contextSize) return
    const compacted = await compactHistory(session.getChatHistory(), systemPrompt, summary, memory, summaryBound(context.contextSize))
    if (compacted === null) return
    session.setChatHistory(compacted.history)
    summary = compacted.summary
    summarized += compacted.replaced
    memory.onSummary?.({ text: summary, turns: summarized })
  }
  if (init.history !== undefined && init.history.length > 0) {
    session.setChatHistory([
      ...session.getChatHistory().filter(item => item.type === 'system'),
      ...init.history.map(turn => turn.role === 'user' ? { type: 'user' as const, text: turn.text } : { type: 'model' as const, response: [turn.text] })
    ])
  }
  const name = (model.fileInfo.metadata as { general?: { name?: string } }).general?.name ?? basename(init.modelPath)

  return {
    model: name,
    async ask (question, options = {}) {
      const toolCalls: ToolCallRecord[] = []
      const functions: ChatSessionModelFunctions = Object.fromEntries(init.tools.map(tool => [tool.name, defineChatSessionFunction({
        description: tool.description,
        params: toGbnfSchema(tool.inputSchema) as never,
        handler: async (params: unknown) => {
          const args = dropNulls(params)
          const allowed = tool.effect === 'read' || init.allowSigning === true || (await init.confirm?.({ name: tool.name, arguments: args }) ?? false)
          const answer = allowed ? await tool.call(args) : { isError: true, text: DECLINED }
          const result = answer.isError ? { error: answer.text } : JSON.parse(answer.text) as unknown
          toolCalls.push({ name: tool.name, arguments: args, result, isError: answer.isError })
          return answer.isError ? answer.text : result
        }
      })]))
      await bound()
      const before = sequence.tokenMeter.getState()
      const started = performance.now()
      let firstTokenMs: number | null = null
      const first = (): void => { firstTokenMs ??= performance.now() - started }
      // The answer is the text as streamed: the session's own copy is the whole token
      // sequence detokenized at once, which some tokenizers clean up (" ." read as "."),
      // and a caller who showed the chunks must be left holding what it showed.
      let streamed = ''
      const answer = await session.prompt(question, {
        functions: init.tools.length > 0 ? functions : undefined,
        maxTokens: init.maxTokens ?? 512,
        signal: options.signal,
        // Stopped, the answer so far is the answer (a chat's Ctrl-C), not an error.
        stopOnAbortSignal: true,
        onToken: first,
        onFunctionCallParamsChunk: first,
        onTextChunk: (text) => {
          first()
          streamed += text
          options.onText?.(text)
        }
      })
      const after = sequence.tokenMeter.getState()
      return {
        answer: streamed === '' ? answer : streamed,
        toolCalls,
        model: name,
        tokens: { input: after.usedInputTokens - before.usedInputTokens, output: after.usedOutputTokens - before.usedOutputTokens },
        firstTokenMs,
        totalMs: performance.now() - started
      }
    },
    reset () {
      summary = null
      summarized = 0
      session.setChatHistory([{ type: 'system', text: systemPrompt }])
    },
    memory: () => ({ summary, turns: summarized, contextTokens: sequence.nextTokenIndex, contextSize: context.contextSize }),
    async close () {
      await context.dispose()
      await model.dispose()
      await llama.dispose()
    }
  }
}
