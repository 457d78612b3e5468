import type { DatabaseSync } from 'node:sqlite'
import { openDatabase } from './sqlite.ts'
import type { Address, Hex } from 'viem'
import type { Voucher } from '@commons/chain'

/**
 * A provider's vouchers, in SQLite: per channel, the best voucher it holds (the highest
 * cumulative total, which replaces every older one), what its answers have spent of the
 * channel, what it has claimed on-chain, and every voucher amount it has taken. A request
 * is served when it brings a voucher not taken before and the best voucher, this one
 * included, covers everything spent so far plus its cost. So concurrent requests never
 * wait on each other, and may arrive in any order: a client that signs A = S + a and
 * B = S + a + b for two requests in flight is served whether B or A comes first. A
 * replayed voucher is refused, even while the channel has credit. Every write is one
 * statement, so a killed node leaves a consistent file.
 */

export interface ChannelBook {
  channel: Hex
  client: Address
  /** Unix seconds from which the client may reclaim: the provider must claim before. */
  expiry: number
  best: Voucher | null
  spent: bigint
  claimed: bigint
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS vouchers (
  channel TEXT PRIMARY KEY, client TEXT NOT NULL, expiry INTEGER NOT NULL,
  cumulative TEXT NOT NULL, signature TEXT NOT NULL, spent TEXT NOT NULL, claimed TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS taken (channel TEXT NOT NULL, cumulative TEXT NOT NULL, PRIMARY KEY (channel, cumulative))`

export class VoucherBook {
  private readonly db: DatabaseSync

  constructor (path: string) {
    this.db = openDatabase(path, SCHEMA)
  }

  get (channel: Hex): ChannelBook | undefined {
    const row = this.db.prepare('SELECT * FROM vouchers WHERE channel = ?').get(channel.toLowerCase())
    return row === undefined ? undefined : toBook(row)
  }

  all (): ChannelBook[] {
    return this.db.prepare('SELECT * FROM vouchers ORDER BY expiry').all().map(toBook)
  }

  /**
   * Spends `cost` of the channel against `voucher`, keeping the voucher if it is the best
   * yet; synchronous, so two requests never both spend the same credit. Refused
   * ('replayed') when the voucher was taken before, ('short') when the best voucher does
   * not cover the spent total plus `cost`.
   */
  spend (voucher: Voucher, client: Address, expiry: number, cost: bigint): { ok: true, spent: bigint } | { ok: false, reason: 'replayed' | 'short', spent: bigint, covered: bigint } {
    const known = this.get(voucher.channel)
    const spent = known?.spent ?? 0n
    const best = known?.best === null || known?.best === undefined || voucher.cumulative > known.best.cumulative ? voucher : known.best
    const key = [voucher.channel.toLowerCase(), String(voucher.cumulative)]
    if (this.db.prepare('SELECT 1 FROM taken WHERE channel = ? AND cumulative = ?').get(...key) !== undefined) return { ok: false, reason: 'replayed', spent, covered: best.cumulative }
    if (best.cumulative < spent + cost) return { ok: false, reason: 'short', spent, covered: best.cumulative }
    this.db.prepare('INSERT INTO taken VALUES (?, ?)').run(...key)
    this.write({ channel: voucher.channel, client, expiry, best, spent: spent + cost, claimed: known?.claimed ?? 0n })
    return { ok: true, spent: spent + cost }
  }

  /** Gives back what a request spent when it could not be answered. */
  refund (channel: Hex, cost: bigint): void {
    const known = this.get(channel)
    if (known !== undefined) this.write({ ...known, spent: known.spent - cost })
  }

  setClaimed (channel: Hex, claimed: bigint, expiry?: number): void {
    const known = this.get(channel)
    if (known !== undefined) this.write({ ...known, claimed, expiry: expiry ?? known.expiry })
  }

  close (): void {
    this.db.close()
  }

  private write (b: ChannelBook): void {
    this.db.prepare(`INSERT INTO vouchers VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel) DO UPDATE SET client = excluded.client,
      expiry = excluded.expiry, cumulative = excluded.cumulative, signature = excluded.signature, spent = excluded.spent, claimed = excluded.claimed, updated_at = excluded.updated_at`)
      .run(b.channel.toLowerCase(), b.client, b.expiry, String(b.best?.cumulative ?? 0n), b.best?.signature ?? '0x', String(b.spent), String(b.claimed), new Date().toISOString())
  }
}

function toBook (row: Record<string, unknown>): ChannelBook {
  const cumulative = BigInt(String(row.cumulative))
  return {
    channel: String(row.channel) as Hex,
    client: String(row.client) as Address,
    expiry: Number(row.expiry),
    best: row.signature === '0x' ? null : { channel: String(row.channel) as Hex, cumulative, signature: String(row.signature) as Hex },
    spent: BigInt(String(row.spent)),
    claimed: BigInt(String(row.claimed))
  }
}
