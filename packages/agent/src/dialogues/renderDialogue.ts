import { LlamaText, SpecialToken, SpecialTokensText, type ChatHistoryItem, type ChatModelFunctions } from 'node-llama-cpp'
import { CommonsChatWrapper } from '../agent/commonsChatWrapper.ts'
import { DEFAULT_SYSTEM_PROMPT } from '../agent/openAgent.ts'

/** One tool-use exchange: a question, the call the model should make, its result, the answer. */
export interface Dialogue {
  /** The tools offered, by name (their order is the prompt's). */
  tools: readonly string[]
  question: string
  call?: { name: string, params: Record<string, unknown> }
  result?: unknown
  answer: string
}

/** Ends a dialogue in a training corpus: GeneralChatWrapper (and so CommonsChatWrapper) stops generating at "<end>". */
export const DIALOGUE_END = '<end>'

/** LlamaText as the bytes a byte-level model reads: special tokens (BOS, EOS) left out. */
function plain (text: LlamaText): string {
  return text.values.map(v => typeof v === 'string' ? v : v instanceof SpecialTokensText ? v.value : v instanceof SpecialToken ? '' : '').join('')
}

/**
 * Dialogues as the text the agent's chat format gives the model: one conversation (the
 * system prompt and tool list once, then each question and the model's own turn: its
 * call, the result, its answer). What a Commons agent model is trained on, so that at
 * inference the same wrapper's prompt is followed by the same call syntax.
 */
export function renderConversation (dialogues: readonly Dialogue[], systemPrompt = DEFAULT_SYSTEM_PROMPT): string {
  const functions: ChatModelFunctions = Object.fromEntries((dialogues[0]?.tools ?? []).map(name => [name, { description: name }]))
  const history: ChatHistoryItem[] = [{ type: 'system', text: systemPrompt }]
  for (const dialogue of dialogues) {
    const response: Array<string | { type: 'functionCall', name: string, params: unknown, result: unknown }> = []
    if (dialogue.call !== undefined) response.push({ type: 'functionCall', name: dialogue.call.name, params: dialogue.call.params, result: dialogue.result ?? null })
    response.push(dialogue.answer)
    history.push({ type: 'user', text: dialogue.question }, { type: 'model', response: response as never })
  }
  return plain(new CommonsChatWrapper().generateContextState({ chatHistory: history, availableFunctions: functions }).contextText)
}

/** One dialogue as a conversation of its own. */
export const renderDialogue = (dialogue: Dialogue, systemPrompt = DEFAULT_SYSTEM_PROMPT): string => renderConversation([dialogue], systemPrompt)
