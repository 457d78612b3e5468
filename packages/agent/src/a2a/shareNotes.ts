import { CID } from 'multiformats/cid'
import { z } from 'zod'
import { findDataset, readFileBytes, showVersion, type Store } from '@commons/store'
import { commitNoteFiles } from '../knowledge/commitNotes.ts'
import { KNOWLEDGE_DATASET, notePath, parseNote, verifyNote } from '../knowledge/note.ts'
import type { A2aNetwork } from './network.ts'

/** The gossip topic nodes announce the notes they hold on, by CID. */
export const KNOWLEDGE_TOPIC = 'commons/knowledge/1'
/** Newest notes named per announcement: a later peer learns of these, and of each new one. */
const ANNOUNCED = 100
/** A note file is small (20,000 characters of text at most): anything larger is not one. */
const MAX_NOTE_BYTES = 64 * 1024
const FETCH_MS = 30_000

const announcement = z.object({ kind: z.literal('notes'), cids: z.array(z.string().max(200)).max(ANNOUNCED) })

export interface NoteSharing {
  /** Notes fetched, verified and added to this node's knowledge. */
  received: number
  /** Announced CIDs refused: not a note, a signature not its author's, too large, not fetched. */
  refused: number
  /** Announces the notes held now (also done every interval). */
  announce(): Promise<void>
  /** Resolves once the announcements received so far are handled. */
  idle(): Promise<void>
  stop(): void
}

/** CIDs of the note files in the knowledge head, oldest first (paths start with the time). */
async function heldNotes (store: Store): Promise<Array<{ path: string, cid: string }>> {
  const ref = await findDataset(store, KNOWLEDGE_DATASET)
  if (ref?.head == null) return []
  return (await showVersion(store, ref.head.toString())).files.filter(f => f.path.startsWith('notes/')).map(f => ({ path: f.path, cid: f.cid.toString() })).sort((a, b) => a.path < b.path ? -1 : 1)
}

/**
 * Shared knowledge between nodes: announces the CIDs of the notes this node holds on
 * the knowledge topic, and takes in the notes others announce: each fetched by CID
 * (every block checked against it), parsed, its signature checked against its author,
 * then committed with the same bytes to this node's knowledge dataset, where
 * knowledge_search indexes it under the same CID. A forged note is never held.
 */
export function shareNotes (options: { network: A2aNetwork, store: Store, intervalMs?: number, log?: (line: string) => void }): NoteSharing {
  const { network, store } = options
  const log = options.log ?? (() => {})
  // CIDs already handled (held, taken in or refused): announced again every interval, each is fetched once.
  const known = new Set<string>()
  let work: Promise<void> = Promise.resolve()

  const take = async (cid: string, from: string): Promise<void> => {
    const refuse = (why: string): void => { sharing.refused++; log(`note ${cid} from ${from} refused: ${why}`) }
    let root: CID
    try {
      root = CID.parse(cid)
    } catch {
      refuse('not a CID')
      return
    }
    try {
      const fetched = await network.fetchDag(root, { signal: AbortSignal.timeout(FETCH_MS) })
      if (fetched.bytes > MAX_NOTE_BYTES * 2) { refuse(`${fetched.bytes} bytes is no note`); return }
    } catch (error) {
      known.delete(cid) // not held by anyone reachable now: a later announcement may do
      refuse(`could not fetch it: ${(error as Error).message}`)
      return
    }
    const bytes = await readFileBytes(store.blocks, root)
    const note = bytes.length > MAX_NOTE_BYTES ? null : parseNote(bytes.toString('utf8'))
    if (note === null) { refuse('not a note'); return }
    if (!await verifyNote(note)) { refuse(`its signature is not ${note.author}'s`); return }
    const path = notePath(note)
    const committed = await commitNoteFiles(store, [{ path, bytes }], { message: `note from ${from}: ${note.title}`, author: note.author, time: note.time })
    if (committed.cids.get(path) !== cid) log(`note ${cid} is held as ${committed.cids.get(path)}: stored with another layout`)
    sharing.received++
  }

  const unsubscribe = network.subscribe(KNOWLEDGE_TOPIC, (message, from) => {
    const parsed = announcement.safeParse(message)
    if (!parsed.success) return
    // One at a time: each commit builds on the last.
    work = work.then(async () => {
      for (const h of await heldNotes(store)) known.add(h.cid)
      for (const cid of parsed.data.cids) {
        if (known.has(cid)) continue
        known.add(cid)
        await take(cid, from).catch((error: unknown) => { sharing.refused++; log(`note ${cid} from ${from}: ${(error as Error).message}`) })
      }
    })
  })

  const sharing: NoteSharing = {
    received: 0,
    refused: 0,
    announce: async () => {
      const held = await heldNotes(store)
      if (held.length === 0) return
      await network.publish(KNOWLEDGE_TOPIC, { kind: 'notes', cids: held.slice(-ANNOUNCED).map(h => h.cid) }).catch(() => {})
    },
    idle: async () => { await work },
    stop: () => {
      clearInterval(timer)
      unsubscribe()
    }
  }
  const timer = setInterval(() => { void sharing.announce().catch(() => {}) }, options.intervalMs ?? 30_000)
  timer.unref()
  void sharing.announce().catch(() => {})
  return sharing
}
