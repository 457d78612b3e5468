import { fileURLToPath } from 'node:url'
import { DIALOGUE_END, renderConversation } from './renderDialogue.ts'
import { toolDialogues, type ToolDialogueSets } from './toolDialogues.ts'

/**
 * The demo's agent model, shipped in packages/agent/model/ (its README says how it was
 * trained and how to reproduce it). Its dialogues are drawn with these options: the
 * training corpus, the validation questions its data, recipe and length were chosen on,
 * and the held-out questions the benchmark and the tests ask.
 */
export const AGENT_MODEL_DIALOGUES = { seed: 1, perTemplate: 500, heldOutPerTemplate: 10, validationPerTemplate: 20, unknownWords: 0.4 } as const

/**
 * Questions per conversation in the corpus: the system prompt and tool list (about 70
 * tokens) are read once per conversation, so more of each training window is questions
 * and calls (a model learns its tool choice from those few tokens).
 */
export const TURNS_PER_CONVERSATION = 6

/** The shipped GGUF. */
export const AGENT_MODEL_PATH = fileURLToPath(new URL('../../model/agent.gguf', import.meta.url))

/** The shipped run (recipe, tokenizer, transcript) that `commons replay` checks. */
export const AGENT_MODEL_RUN = fileURLToPath(new URL('../../model/run', import.meta.url))

/** The shipped model's training and held-out dialogues. */
export const agentModelDialogues = (): ToolDialogueSets => toolDialogues(AGENT_MODEL_DIALOGUES)

/** The training text of a set of dialogues: conversations of TURNS_PER_CONVERSATION in the agent's chat format, each ended by <end>. */
export function corpusText (sets: ToolDialogueSets): string {
  const texts: string[] = []
  for (let i = 0; i < sets.train.length; i += TURNS_PER_CONVERSATION) texts.push(renderConversation(sets.train.slice(i, i + TURNS_PER_CONVERSATION)) + DIALOGUE_END)
  return texts.join('')
}
