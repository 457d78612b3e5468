import type { ChatHistoryItem, ChatModelResponse } from 'node-llama-cpp'

/** A turn of a conversation as a summary sees it. */
export interface MemoryTurn {
  role: 'user' | 'model'
  text: string
  /** The tools the model called in this turn, with their arguments. */
  calls: Array<{ name: string, arguments: unknown }>
}

export interface MemoryOptions {
  /**
   * Share of the context a conversation may fill before a question; above it, the older
   * turns are replaced by a summary (default 0.6: the question, tool results and answer
   * still fit in what is left).
   */
  compactAt?: number
  /** Exchanges (question and answer) kept word for word after a compaction (default 1). */
  keepExchanges?: number
  /**
   * Writes the summary of the turns replaced, after the summary they follow; default
   * {@link summarizeTurns} (no model: a small model's own summary is not to be trusted).
   */
  summarize?: (turns: readonly MemoryTurn[], previous: string | null, maxChars: number) => Promise<string> | string
  /** Told of each compaction: the whole summary so far and how many turns of the conversation it covers (the CLI keeps it in SQLite). */
  onSummary?: (summary: { text: string, turns: number }) => void
}

/** Longest summary kept (characters): the oldest lines go first. A smaller context gets a quarter of its size. */
export const SUMMARY_MAX_CHARS = 800

/** The summary's bound for a context of `contextSize` tokens (a token is at least a character). */
export const summaryBound = (contextSize: number): number => Math.min(SUMMARY_MAX_CHARS, Math.floor(contextSize / 4))

const clip = (text: string, max: number): string => text.length <= max ? text : `${text.slice(0, max - 3)}...`

/**
 * One line per turn: what the user asked, which tools answered, what the model said;
 * appended to the previous summary, and the oldest lines dropped past `maxChars` (the
 * newest question and answer kept, clipped if they alone are over it).
 */
export function summarizeTurns (turns: readonly MemoryTurn[], previous: string | null, maxChars = SUMMARY_MAX_CHARS): string {
  const lines = previous === null || previous === '' ? [] : previous.split('\n')
  for (const turn of turns) {
    if (turn.role === 'user') lines.push(`user asked: ${clip(turn.text, 160)}`)
    else {
      const calls = turn.calls.map(c => `${c.name}(${clip(JSON.stringify(c.arguments), 80)})`).join(', ')
      lines.push(`agent ${calls === '' ? '' : `called ${calls} and `}said: ${clip(turn.text, 200)}`)
    }
  }
  while (lines.length > 2 && lines.join('\n').length > maxChars) lines.shift()
  const text = lines.join('\n')
  if (text.length <= maxChars || lines.length < 2) return clip(text, maxChars)
  // The newest exchange alone is over the bound (a small context, a long answer): its
  // question is kept in at most half the room and the answer clipped to the rest, so the
  // summary never loses what was asked to a long reply.
  const asked = clip(lines[0], Math.floor(maxChars / 2))
  return `${asked}\n${clip(lines[1], maxChars - asked.length - 1)}`
}

/** The system prompt with the summary of what came before. */
export const withSummary = (systemPrompt: string, summary: string | null): string =>
  summary === null || summary === '' ? systemPrompt : `${systemPrompt}\nEarlier in this conversation:\n${summary}`

/** A chat history item as a turn (the system prompt is not one). */
function asTurn (item: ChatHistoryItem): MemoryTurn | null {
  if (item.type === 'user') return { role: 'user', text: item.text, calls: [] }
  if (item.type !== 'model') return null
  const response = (item as ChatModelResponse).response
  return {
    role: 'model',
    text: response.filter((r): r is string => typeof r === 'string').join(''),
    calls: response.flatMap(r => typeof r === 'object' && r !== null && r.type === 'functionCall' ? [{ name: r.name, arguments: r.params }] : [])
  }
}

/**
 * The history with every turn but the last `keepExchanges` exchanges replaced by a
 * summary in the system prompt; null when there is nothing old enough to replace.
 */
export async function compactHistory (history: readonly ChatHistoryItem[], systemPrompt: string, previous: string | null, options: MemoryOptions, maxChars = SUMMARY_MAX_CHARS):
Promise<{ history: ChatHistoryItem[], summary: string, replaced: number } | null> {
  const turns = history.filter(item => item.type !== 'system')
  const keep = 2 * (options.keepExchanges ?? 1)
  if (turns.length <= keep) return null
  const old = turns.slice(0, turns.length - keep).map(asTurn).filter((t): t is MemoryTurn => t !== null)
  const summary = await (options.summarize ?? summarizeTurns)(old, previous, maxChars)
  return { history: [{ type: 'system', text: withSummary(systemPrompt, summary) }, ...turns.slice(turns.length - keep)], summary, replaced: turns.length - keep }
}
