import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import type { ToolCallRecord } from './openAgent.ts'

export interface Turn {
  role: 'user' | 'model'
  text: string
  toolCalls: ToolCallRecord[]
  time: string
}

export interface ConversationSummary {
  id: number
  started: string
  model: string
  turns: number
  /** The first question, as a title. */
  title: string
}

/** Where a home keeps its agent's conversations. */
export const conversationsFile = (home: string): string => join(home, 'agent', 'conversations.sqlite')

/**
 * The agent's conversations in the node's SQLite: every question and answer with the
 * tool calls behind it, so `commons agent chat --continue ID` picks a conversation up.
 */
export class Conversations {
  private readonly db: DatabaseSync

  constructor (path: string) {
    mkdirSync(dirname(path), { recursive: true })
    this.db = new DatabaseSync(path)
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      CREATE TABLE IF NOT EXISTS conversations (id INTEGER PRIMARY KEY, started TEXT NOT NULL, model TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS turns (
        conversation INTEGER NOT NULL REFERENCES conversations(id), seq INTEGER NOT NULL,
        role TEXT NOT NULL, text TEXT NOT NULL, tool_calls TEXT NOT NULL, time TEXT NOT NULL,
        PRIMARY KEY (conversation, seq)
      );
      CREATE TABLE IF NOT EXISTS summaries (
        conversation INTEGER NOT NULL REFERENCES conversations(id), turns INTEGER NOT NULL,
        text TEXT NOT NULL, time TEXT NOT NULL, PRIMARY KEY (conversation, turns)
      );`)
  }

  start (model: string): number {
    return Number(this.db.prepare('INSERT INTO conversations (started, model) VALUES (?, ?)').run(new Date().toISOString(), model).lastInsertRowid)
  }

  append (conversation: number, turn: Omit<Turn, 'time'>): void {
    const next = (this.db.prepare('SELECT COALESCE(MAX(seq), -1) + 1 AS seq FROM turns WHERE conversation = ?').get(conversation) as { seq: number }).seq
    this.db.prepare('INSERT INTO turns (conversation, seq, role, text, tool_calls, time) VALUES (?, ?, ?, ?, ?, ?)')
      .run(conversation, next, turn.role, turn.text, JSON.stringify(turn.toolCalls), new Date().toISOString())
  }

  /** The turns of a conversation, oldest first; null when there is no such conversation. */
  turns (conversation: number): Turn[] | null {
    if (this.db.prepare('SELECT id FROM conversations WHERE id = ?').get(conversation) === undefined) return null
    return (this.db.prepare('SELECT role, text, tool_calls, time FROM turns WHERE conversation = ? ORDER BY seq').all(conversation) as Array<{ role: 'user' | 'model', text: string, tool_calls: string, time: string }>)
      .map(r => ({ role: r.role, text: r.text, toolCalls: JSON.parse(r.tool_calls) as ToolCallRecord[], time: r.time }))
  }

  /** Keeps the summary that stands for the first `turns` turns of a conversation (bounded memory). */
  saveSummary (conversation: number, summary: { text: string, turns: number }): void {
    this.db.prepare('INSERT OR REPLACE INTO summaries (conversation, turns, text, time) VALUES (?, ?, ?, ?)')
      .run(conversation, summary.turns, summary.text, new Date().toISOString())
  }

  /** The latest summary of a conversation, or null if it never outgrew its context. */
  summary (conversation: number): { text: string, turns: number } | null {
    const row = this.db.prepare('SELECT text, turns FROM summaries WHERE conversation = ? ORDER BY turns DESC LIMIT 1').get(conversation) as { text: string, turns: number } | undefined
    return row === undefined ? null : { text: row.text, turns: row.turns }
  }

  /** What an agent continues from: the latest summary, and the turns after it. */
  resume (conversation: number): { summary: { text: string, turns: number } | undefined, turns: Turn[] } | null {
    const turns = this.turns(conversation)
    if (turns === null) return null
    const summary = this.summary(conversation) ?? undefined
    return { summary, turns: turns.slice(summary?.turns ?? 0) }
  }

  list (): ConversationSummary[] {
    return (this.db.prepare(`SELECT c.id, c.started, c.model, COUNT(t.seq) AS turns,
        COALESCE((SELECT text FROM turns WHERE conversation = c.id AND role = 'user' ORDER BY seq LIMIT 1), '') AS title
      FROM conversations c LEFT JOIN turns t ON t.conversation = c.id GROUP BY c.id ORDER BY c.id`).all() as unknown as ConversationSummary[])
  }

  close (): void {
    this.db.close()
  }
}
