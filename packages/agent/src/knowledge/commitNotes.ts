import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import { commitVersion, exportVersion, findDataset, initDataset, showVersion, type Store } from '@commons/store'
import { KNOWLEDGE_DATASET } from './note.ts'

// One commit at a time in this process: each builds on the head the previous one made.
let queue: Promise<unknown> = Promise.resolve()

/**
 * Commits `files` (note files, bytes as given, so a note keeps its CID from node to
 * node) as the next version of the knowledge dataset, created on first use: the
 * head's files plus these. Answers the version and the CID of each file by path.
 */
export async function commitNoteFiles (store: Store, files: Array<{ path: string, bytes: Buffer | string }>, commit: { message: string, author: string, time: number }): Promise<{ version: string, cids: Map<string, string> }> {
  const run = queue.then(async () => {
    const work = await mkdtemp(join(tmpdir(), 'commons-note-'))
    try {
      const ref = await findDataset(store, KNOWLEDGE_DATASET) ?? await initDataset(store, KNOWLEDGE_DATASET)
      const tree = join(work, 'tree')
      if (ref.head === null) await mkdir(tree)
      else await exportVersion(store, ref.head.toString(), tree)
      for (const f of files) {
        await mkdir(dirname(join(tree, f.path)), { recursive: true })
        await writeFileAtomic(join(tree, f.path), f.bytes)
      }
      const committed = await commitVersion(store, { name: KNOWLEDGE_DATASET, path: tree, message: commit.message, author: commit.author, time: commit.time })
      const paths = new Set(files.map(f => f.path))
      const cids = new Map((await showVersion(store, committed.cid.toString())).files.filter(f => paths.has(f.path)).map(f => [f.path, f.cid.toString()]))
      return { version: committed.cid.toString(), cids }
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  })
  queue = run.catch(() => {})
  return run
}
