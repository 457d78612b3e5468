import { readFileBytes, recordKindFor, showVersion, splitRecords, type Store } from '@commons/store'

/** Text files larger than this are not read whole by a tool (a model's context could not hold them anyway). */
export const MAX_TEXT_FILE_BYTES = 8 << 20

export interface FileRecords {
  path: string
  cid: string
  kind: 'rows' | 'lines' | 'binary'
  records: string[]
}

/**
 * The records (rows of a .jsonl/.csv, lines of other text) of the files of a version,
 * one file or all; binary files and files over {@link MAX_TEXT_FILE_BYTES} give none.
 */
export async function versionRecords (store: Store, ref: string, path?: string): Promise<{ version: string, files: FileRecords[] }> {
  const shown = await showVersion(store, ref)
  const files = path === undefined ? shown.files : shown.files.filter(f => f.path === path)
  const out: FileRecords[] = []
  for (const f of files) {
    if (f.size > MAX_TEXT_FILE_BYTES) {
      out.push({ path: f.path, cid: f.cid.toString(), kind: 'binary', records: [] })
      continue
    }
    const bytes = await readFileBytes(store.blocks, f.cid)
    const kind = recordKindFor(f.path, bytes)
    out.push({ path: f.path, cid: f.cid.toString(), kind, records: kind === 'binary' ? [] : splitRecords(bytes.toString('utf8'), /\.csv$/i.test(f.path)) })
  }
  return { version: shown.cid.toString(), files: out }
}
