import MiniSearch from 'minisearch'
import { findDataset, readFileBytes, showVersion, type Store } from '@commons/store'
import { KNOWLEDGE_DATASET, parseNote, verifyNote, type Note } from './note.ts'

export interface NoteHit {
  cid: string
  title: string
  text: string
  tags: string[]
  author: string
  time: string
  score: number
}

interface Indexed { head: string, index: MiniSearch<Note & { id: string }>, notes: number, unverified: number }

// The index of the last head read: rebuilt only when the knowledge dataset moves.
let cached: Indexed | undefined

/** Every note of the knowledge head whose signature is its author's, indexed by title, text and tags. */
async function indexOf (store: Store): Promise<Indexed | null> {
  const ref = await findDataset(store, KNOWLEDGE_DATASET)
  if (ref?.head == null) return null
  const head = ref.head.toString()
  if (cached?.head === head) return cached
  const index = new MiniSearch<Note & { id: string }>({ fields: ['title', 'text', 'tags'], storeFields: ['title', 'text', 'tags', 'author', 'time'], extractField: (doc, field) => field === 'tags' ? doc.tags.join(' ') : (doc as unknown as Record<string, string>)[field] })
  let notes = 0
  let unverified = 0
  for (const f of (await showVersion(store, head)).files) {
    const note = parseNote((await readFileBytes(store.blocks, f.cid)).toString('utf8'))
    if (note === null) continue
    // A note whose signature is not its author's is never cited: its provenance is a lie.
    if (!await verifyNote(note)) { unverified++; continue }
    index.add({ ...note, id: f.cid.toString() })
    notes++
  }
  cached = { head, index, notes, unverified }
  return cached
}

/** Notes matching `query`, best first, each by the CID of its file. */
export async function searchNotes (store: Store, query: string, limit = 5): Promise<{ version: string | null, notes: number, unverified: number, hits: NoteHit[] }> {
  const indexed = await indexOf(store)
  if (indexed === null) return { version: null, notes: 0, unverified: 0, hits: [] }
  const hits = indexed.index.search(query, { prefix: true, fuzzy: 0.2, boost: { title: 2 } }).slice(0, limit)
  return {
    version: indexed.head,
    notes: indexed.notes,
    unverified: indexed.unverified,
    hits: hits.map(h => ({ cid: h.id as string, title: h.title as string, text: h.text as string, tags: h.tags as string[], author: h.author as string, time: new Date((h.time as number) * 1000).toISOString(), score: Number(h.score.toFixed(3)) }))
  }
}
