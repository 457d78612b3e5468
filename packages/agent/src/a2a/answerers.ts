import type { Store } from '@commons/store'
import type { Agent } from '../agent/openAgent.ts'
import { searchNotes } from '../knowledge/searchNotes.ts'
import type { TaskAnswerer } from './taskProtocol.ts'

/**
 * Answers from the shared notes this node holds, without a model: the best matching
 * notes' text, each followed by its CID. What a node with no model configured serves,
 * and what tests use to stay fast.
 */
export function knowledgeAnswerer (store: () => Promise<Store>): TaskAnswerer {
  return async (question, io) => {
    const found = await searchNotes(await store(), question, 3)
    if (found.hits.length === 0) {
      const text = 'I hold no shared note on that.'
      io.onText(text)
      return { text, cites: [] }
    }
    let text = ''
    for (const hit of found.hits) {
      if (io.signal.aborted) break
      const part = `${text === '' ? '' : '\n'}${hit.title}: ${hit.text} [${hit.cid}]`
      io.onText(part)
      text += part
    }
    return { text, cites: found.hits.map(h => h.cid) }
  }
}

/** The CIDs of the notes a knowledge_search call returned. */
function citedCids (result: unknown): string[] {
  const hits = (result as { hits?: Array<{ cid?: unknown }> } | null)?.hits
  return Array.isArray(hits) ? hits.flatMap(h => typeof h.cid === 'string' ? [h.cid] : []) : []
}

/** Answers with the node's agent (its model and tools); cites the notes its knowledge searches found. */
export function agentAnswerer (agent: Agent): TaskAnswerer {
  // One question at a time: the agent keeps one chat session.
  let queue: Promise<unknown> = Promise.resolve()
  return async (question, io) => {
    const run = queue.then(async () => {
      agent.reset()
      const answer = await agent.ask(question, { onText: io.onText, signal: io.signal })
      const cites = [...new Set(answer.toolCalls.filter(c => c.name === 'knowledge_search' && !c.isError).flatMap(c => citedCids(c.result)))]
      return { text: answer.answer, cites }
    })
    queue = run.catch(() => {})
    return run
  }
}
