import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

/**
 * The explorer's SQLite index: every event of the deployment's contracts (and of every
 * DAO the factory made), with its transaction's gas and sender and its block's time.
 * Rows are keyed by (block, log index), so indexing a window twice changes nothing.
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  block INTEGER NOT NULL, log_index INTEGER NOT NULL, tx TEXT NOT NULL,
  contract TEXT NOT NULL, address TEXT NOT NULL, name TEXT NOT NULL, args TEXT NOT NULL,
  PRIMARY KEY (block, log_index));
CREATE INDEX IF NOT EXISTS events_by_name ON events (contract, name);
CREATE INDEX IF NOT EXISTS events_by_address ON events (address);
CREATE TABLE IF NOT EXISTS txs (hash TEXT PRIMARY KEY, sender TEXT NOT NULL, gas TEXT NOT NULL, block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

/** An event as read from the chain, before it is stored. */
export interface NewEvent {
  block: number
  logIndex: number
  tx: string
  /** Which contract of the set: market, registry, disputeGame, priceFeed, daoFactory, token, dao. */
  contract: string
  address: string
  name: string
  args: unknown
}

/** One indexed event; `args` as decoded, bigints as decimal strings, bytes as hex. */
export interface EventRow extends NewEvent {
  args: Record<string, unknown>
  /** Seconds since the Unix epoch (the block's timestamp). */
  time: number
  gas: string
  sender: string
}

/** JSON of decoded event args: bigints as strings, nested structs and arrays kept. */
export function argsJson (args: unknown): string {
  return JSON.stringify(args ?? {}, (_key, value: unknown) => typeof value === 'bigint' ? value.toString() : value)
}

interface RawRow { block: number, log_index: number, tx: string, contract: string, address: string, name: string, args: string, time: number | null, gas: string | null, sender: string | null }

const SELECT = `SELECT e.block, e.log_index, e.tx, e.contract, e.address, e.name, e.args, b.time, t.gas, t.sender
  FROM events e LEFT JOIN blocks b ON b.number = e.block LEFT JOIN txs t ON t.hash = e.tx`

export class ExplorerIndex {
  readonly db: DatabaseSync

  constructor (path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    this.db = new DatabaseSync(path)
    if (path !== ':memory:') this.db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;')
    this.db.exec(SCHEMA)
  }

  meta (key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined
    return row?.value
  }

  setMeta (key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value)
  }

  /** Forgets everything (the index was built for another chain or deployment). */
  clear (): void {
    this.db.exec('DELETE FROM events; DELETE FROM txs; DELETE FROM blocks; DELETE FROM meta;')
  }

  /** One window's events, transactions and blocks, and the block indexed up to: all or nothing. */
  addWindow (events: NewEvent[], txs: Array<{ hash: string, sender: string, gas: bigint, block: number }>, blocks: Array<{ number: number, time: number }>, indexedTo: bigint): void {
    this.db.exec('BEGIN')
    try {
      const event = this.db.prepare('INSERT OR IGNORE INTO events (block, log_index, tx, contract, address, name, args) VALUES (?, ?, ?, ?, ?, ?, ?)')
      for (const e of events) event.run(e.block, e.logIndex, e.tx, e.contract, e.address.toLowerCase(), e.name, argsJson(e.args))
      const tx = this.db.prepare('INSERT OR IGNORE INTO txs (hash, sender, gas, block) VALUES (?, ?, ?, ?)')
      for (const t of txs) tx.run(t.hash, t.sender.toLowerCase(), t.gas.toString(), t.block)
      const block = this.db.prepare('INSERT OR IGNORE INTO blocks (number, time) VALUES (?, ?)')
      for (const b of blocks) block.run(b.number, b.time)
      this.setMeta('indexedTo', indexedTo.toString())
      this.db.exec('COMMIT')
    } catch (error) {
      this.db.exec('ROLLBACK')
      throw error
    }
  }

  /** Events in chain order, filtered by contract kind, names, address and an args field. */
  events (filter: { contract?: string, names?: string[], address?: string, arg?: [string, string] } = {}): EventRow[] {
    const where: string[] = []
    const values: Array<string | number> = []
    if (filter.contract !== undefined) { where.push('e.contract = ?'); values.push(filter.contract) }
    if (filter.names !== undefined) { where.push(`e.name IN (${filter.names.map(() => '?').join(', ')})`); values.push(...filter.names) }
    if (filter.address !== undefined) { where.push('e.address = ?'); values.push(filter.address.toLowerCase()) }
    if (filter.arg !== undefined) { where.push(`lower(json_extract(e.args, '$.' || ?)) = lower(?)`); values.push(filter.arg[0], filter.arg[1]) }
    const sql = `${SELECT}${where.length > 0 ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY e.block, e.log_index`
    return (this.db.prepare(sql).all(...values) as unknown as RawRow[]).map(toRow)
  }

  /** Events of one transaction (a resolution's slashes are in the same transaction). */
  eventsOfTx (tx: string): EventRow[] {
    return (this.db.prepare(`${SELECT} WHERE e.tx = ? ORDER BY e.log_index`).all(tx) as unknown as RawRow[]).map(toRow)
  }

  /** Addresses of the DAOs the factory made, oldest first. */
  daoAddresses (): string[] {
    return this.events({ contract: 'daoFactory', names: ['DaoCreated'] }).map(e => String(e.args.dao).toLowerCase())
  }

  close (): void {
    this.db.close()
  }
}

function toRow (r: RawRow): EventRow {
  return {
    block: r.block, logIndex: r.log_index, tx: r.tx, contract: r.contract, address: r.address, name: r.name,
    args: JSON.parse(r.args) as Record<string, unknown>, time: r.time ?? 0, gas: r.gas ?? '0', sender: r.sender ?? ''
  }
}
