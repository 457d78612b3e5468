import type { DatabaseSync } from 'node:sqlite'
import { openDatabase } from './sqlite.ts'

/**
 * What a node remembers across restarts, in SQLite under its home: the jobs it has
 * seen and its part in them, its training runs, and its disputes. Every write is one
 * statement (an upsert), so a node killed at any point leaves a consistent file.
 */

export interface JobRow {
  jobId: string
  role: string
  status: string
  detail: Record<string, unknown>
  updatedAt: string
}

export interface RunRow {
  jobId: string
  dir: string
  status: string
  step: number
  runCid: string | null
  updatedAt: string
}

export interface DisputeRow {
  id: string
  jobId: string
  role: string
  status: string
  detail: Record<string, unknown>
  updatedAt: string
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS jobs (job_id TEXT NOT NULL, role TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (job_id, role));
  CREATE TABLE IF NOT EXISTS runs (job_id TEXT PRIMARY KEY, dir TEXT NOT NULL, status TEXT NOT NULL, step INTEGER NOT NULL, run_cid TEXT, updated_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS disputes (id TEXT NOT NULL, job_id TEXT NOT NULL, role TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (id, role));
`

export class NodeState {
  private readonly db: DatabaseSync

  constructor (path: string) {
    this.db = openDatabase(path, SCHEMA)
  }

  /** Records the node's part in a job, merging `detail` into what it knew. */
  setJob (jobId: bigint | string, role: string, status: string, detail: Record<string, unknown> = {}): void {
    const known = this.job(jobId, role)?.detail ?? {}
    this.db.prepare(`INSERT INTO jobs VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id, role) DO UPDATE SET status = excluded.status, detail = excluded.detail, updated_at = excluded.updated_at`)
      .run(String(jobId), role, status, JSON.stringify({ ...known, ...detail }, bigints), now())
  }

  job (jobId: bigint | string, role: string): JobRow | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE job_id = ? AND role = ?').get(String(jobId), role)
    return row === undefined ? undefined : toJob(row)
  }

  jobs (): JobRow[] {
    return this.db.prepare('SELECT * FROM jobs ORDER BY CAST(job_id AS INTEGER), role').all().map(toJob)
  }

  setRun (run: Omit<RunRow, 'updatedAt'>): void {
    this.db.prepare(`INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET dir = excluded.dir, status = excluded.status, step = excluded.step, run_cid = excluded.run_cid, updated_at = excluded.updated_at`)
      .run(run.jobId, run.dir, run.status, run.step, run.runCid, now())
  }

  run (jobId: bigint | string): RunRow | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE job_id = ?').get(String(jobId))
    return row === undefined ? undefined : toRun(row)
  }

  runs (): RunRow[] {
    return this.db.prepare('SELECT * FROM runs ORDER BY CAST(job_id AS INTEGER)').all().map(toRun)
  }

  setDispute (id: bigint | string, jobId: bigint | string, role: string, status: string, detail: Record<string, unknown> = {}): void {
    const known = this.disputes().find(d => d.id === String(id) && d.role === role)?.detail ?? {}
    this.db.prepare(`INSERT INTO disputes VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id, role) DO UPDATE SET status = excluded.status, detail = excluded.detail, updated_at = excluded.updated_at`)
      .run(String(id), String(jobId), role, status, JSON.stringify({ ...known, ...detail }, bigints), now())
  }

  disputes (): DisputeRow[] {
    return this.db.prepare('SELECT * FROM disputes ORDER BY CAST(id AS INTEGER), role').all().map(row => ({
      id: String(row.id), jobId: String(row.job_id), role: String(row.role), status: String(row.status), detail: JSON.parse(String(row.detail)), updatedAt: String(row.updated_at)
    }))
  }

  /** A small named value (the last chain block handled, ...). */
  meta (key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key)
    return row === undefined ? undefined : String(row.value)
  }

  setMeta (key: string, value: string): void {
    this.db.prepare('INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value)
  }

  close (): void {
    this.db.close()
  }
}

const now = (): string => new Date().toISOString()
const bigints = (_key: string, value: unknown): unknown => typeof value === 'bigint' ? value.toString() : value

function toJob (row: Record<string, unknown>): JobRow {
  return { jobId: String(row.job_id), role: String(row.role), status: String(row.status), detail: JSON.parse(String(row.detail)), updatedAt: String(row.updated_at) }
}

function toRun (row: Record<string, unknown>): RunRow {
  return { jobId: String(row.job_id), dir: String(row.dir), status: String(row.status), step: Number(row.step), runCid: row.run_cid === null ? null : String(row.run_cid), updatedAt: String(row.updated_at) }
}
