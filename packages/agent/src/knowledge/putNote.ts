import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import type { LocalAccount } from 'viem'
import { commitVersion, exportVersion, findDataset, initDataset, showVersion, type Store } from '@commons/store'
import { KNOWLEDGE_DATASET, notePath, signNote, type Note } from './note.ts'

export interface PutNoteResult {
  /** The CID of the note's file: what answers cite. */
  cid: string
  /** The knowledge version that holds it. */
  version: string
  path: string
  note: Note
}

// One put at a time in this process: each builds on the head the previous one made.
let queue: Promise<unknown> = Promise.resolve()

/**
 * Signs a note as `account` and commits it as the next version of the knowledge
 * dataset (created on first use): the head's files plus the note's file.
 */
export async function putNote (store: Store, account: LocalAccount, fields: { title: string, text: string, tags: string[], time?: number }): Promise<PutNoteResult> {
  const run = queue.then(async () => {
    const time = fields.time ?? Math.floor(Date.now() / 1000)
    const note = await signNote(account, { title: fields.title, text: fields.text, tags: fields.tags, time })
    const work = await mkdtemp(join(tmpdir(), 'commons-note-'))
    try {
      const ref = await findDataset(store, KNOWLEDGE_DATASET) ?? await initDataset(store, KNOWLEDGE_DATASET)
      const tree = join(work, 'tree')
      if (ref.head === null) await mkdir(tree)
      else await exportVersion(store, ref.head.toString(), tree)
      const path = notePath(note)
      await mkdir(dirname(join(tree, path)), { recursive: true })
      await writeFileAtomic(join(tree, path), JSON.stringify(note, null, 2) + '\n')
      const committed = await commitVersion(store, { name: KNOWLEDGE_DATASET, path: tree, message: `note: ${note.title}`, author: note.author, time })
      const file = (await showVersion(store, committed.cid.toString())).files.find(f => f.path === path)
      return { cid: file?.cid.toString() ?? '', version: committed.cid.toString(), path, note }
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  })
  queue = run.catch(() => {})
  return run
}
