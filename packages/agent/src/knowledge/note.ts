import { createHash } from 'node:crypto'
import { verifyMessage, type Address, type Hex, type LocalAccount } from 'viem'

/** The dataset that holds a node's shared notes, one JSON file per note under notes/. */
export const KNOWLEDGE_DATASET = 'knowledge'

/** A note as stored: its fields, and the author's signature over them. */
export interface Note {
  title: string
  text: string
  tags: string[]
  /** The signing address. */
  author: Address
  /** Seconds since the Unix epoch. */
  time: number
  /** EIP-191 signature by `author` over {@link noteMessage}. */
  signature: Hex
}

export type UnsignedNote = Omit<Note, 'signature'>

/** What the author signs: the fields in a fixed order, so any reader rebuilds the same bytes. */
export function noteMessage (note: UnsignedNote): string {
  return JSON.stringify({ commonsNote: 1, title: note.title, text: note.text, tags: note.tags, author: note.author, time: note.time })
}

export async function signNote (account: LocalAccount, fields: Omit<UnsignedNote, 'author'>): Promise<Note> {
  const unsigned: UnsignedNote = { ...fields, author: account.address }
  return { ...unsigned, signature: await account.signMessage({ message: noteMessage(unsigned) }) }
}

/** True when the note's signature is its author's. */
export async function verifyNote (note: Note): Promise<boolean> {
  try {
    return await verifyMessage({ address: note.author, message: noteMessage(note), signature: note.signature })
  } catch {
    return false
  }
}

/** The path of a note in the knowledge dataset: time first, so a listing reads in order. */
export function notePath (note: Note): string {
  const digest = createHash('sha256').update(note.signature).digest('hex').slice(0, 16)
  return `notes/${note.time}-${digest}.json`
}

/** A note parsed from its file, or null if the file is not a note. */
export function parseNote (text: string): Note | null {
  try {
    const n = JSON.parse(text) as Partial<Note>
    const ok = typeof n.title === 'string' && typeof n.text === 'string' && Array.isArray(n.tags) && n.tags.every(t => typeof t === 'string') &&
      typeof n.author === 'string' && typeof n.time === 'number' && typeof n.signature === 'string'
    return ok ? n as Note : null
  } catch {
    return null
  }
}
