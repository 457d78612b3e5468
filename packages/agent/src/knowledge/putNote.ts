import type { LocalAccount } from 'viem'
import type { Store } from '@commons/store'
import { commitNoteFiles } from './commitNotes.ts'
import { notePath, signNote, type Note } from './note.ts'

export interface PutNoteResult {
  /** The CID of the note's file: what answers cite. */
  cid: string
  /** The knowledge version that holds it. */
  version: string
  path: string
  note: Note
}

/** The bytes of a note's file. */
export const noteFileText = (note: Note): string => JSON.stringify(note, null, 2) + '\n'

/**
 * Signs a note as `account` and commits it as the next version of the knowledge
 * dataset (created on first use): the head's files plus the note's file.
 */
export async function putNote (store: Store, account: LocalAccount, fields: { title: string, text: string, tags: string[], time?: number }): Promise<PutNoteResult> {
  const time = fields.time ?? Math.floor(Date.now() / 1000)
  const note = await signNote(account, { title: fields.title, text: fields.text, tags: fields.tags, time })
  const path = notePath(note)
  const committed = await commitNoteFiles(store, [{ path, bytes: noteFileText(note) }], { message: `note: ${note.title}`, author: note.author, time })
  return { cid: committed.cids.get(path) ?? '', version: committed.version, path, note }
}
