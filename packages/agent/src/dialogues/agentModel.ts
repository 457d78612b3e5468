import { fileURLToPath } from 'node:url'
import { DIALOGUE_END, renderDialogue } from './renderDialogue.ts'
import { toolDialogues, type ToolDialogueSets } from './toolDialogues.ts'

/**
 * The demo's agent model, shipped in packages/agent/model/ (its README says how it was
 * trained and how to reproduce it). Its dialogues are drawn with these options: the
 * training corpus and the held-out questions the benchmark and the tests ask.
 */
export const AGENT_MODEL_DIALOGUES = { seed: 1, perTemplate: 150, heldOutPerTemplate: 10 } as const

/** The shipped GGUF. */
export const AGENT_MODEL_PATH = fileURLToPath(new URL('../../model/agent.gguf', import.meta.url))

/** The shipped run (recipe, tokenizer, transcript) that `commons replay` checks. */
export const AGENT_MODEL_RUN = fileURLToPath(new URL('../../model/run', import.meta.url))

/** The shipped model's training and held-out dialogues. */
export const agentModelDialogues = (): ToolDialogueSets => toolDialogues(AGENT_MODEL_DIALOGUES)

/** The training text of a set of dialogues: each rendered in the agent's chat format and ended by <end>. */
export const corpusText = (sets: ToolDialogueSets): string => sets.train.map(d => renderDialogue(d) + DIALOGUE_END).join('')
