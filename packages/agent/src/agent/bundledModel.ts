import { join } from 'node:path'

/**
 * The agent model shipped in the repo (`packages/agent/model/agent.gguf`): a Commons
 * model trained on the generated tool-use dialogues and exported to GGUF, used by the
 * demo's agent act when no other model is given.
 */
export const BUNDLED_AGENT_MODEL = join(import.meta.dirname, '..', '..', 'model', 'agent.gguf')
