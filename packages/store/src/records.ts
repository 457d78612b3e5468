/** How a file's content splits into comparable records for a diff. */
export type RecordKind = 'rows' | 'lines' | 'binary'

export function recordKindFor (path: string, sample: Uint8Array): RecordKind {
  if (/\.(jsonl|ndjson|csv|tsv)$/i.test(path)) return 'rows'
  const head = sample.subarray(0, 8192)
  if (head.includes(0)) return 'binary'
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, lastCharBoundary(head)))
    return 'lines'
  } catch {
    return 'binary'
  }
}

/** Cuts a sample at a UTF-8 character boundary so a split character is not an error. */
function lastCharBoundary (bytes: Uint8Array): number {
  let end = bytes.length
  while (end > 0 && end > bytes.length - 4 && (bytes[end - 1] & 0xc0) === 0x80) end--
  if (end > 0 && bytes[end - 1] >= 0xc0) end--
  return end === 0 || bytes.length - end > 3 ? bytes.length : end
}

/**
 * Splits text into records: lines, or CSV rows, where a newline inside a quoted
 * field does not end the row. A trailing `\r` is dropped; a final empty line is not
 * a record.
 */
export function splitRecords (text: string, csv: boolean): string[] {
  const records: string[] = []
  let start = 0
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (csv && c === 0x22) quoted = !quoted
    else if (c === 0x0a && !quoted) {
      records.push(text.slice(start, i > start && text.charCodeAt(i - 1) === 0x0d ? i - 1 : i))
      start = i + 1
    }
  }
  if (start < text.length) records.push(text.slice(start))
  return records
}

export interface RecordDiff {
  added: number
  removed: number
  /** The first few added and removed records, in file order. */
  addedSample: string[]
  removedSample: string[]
}

/**
 * Multiset difference of records: a record counts as added when the new file has
 * more copies of it than the old one. Linear time, so a 25 MB file diffs in well
 * under a second; a moved record is neither added nor removed.
 */
export function diffRecords (before: string[], after: string[], sampleSize = 10): RecordDiff {
  const counts = new Map<string, number>()
  for (const record of before) counts.set(record, (counts.get(record) ?? 0) + 1)
  const result: RecordDiff = { added: 0, removed: 0, addedSample: [], removedSample: [] }
  for (const record of after) {
    const left = counts.get(record) ?? 0
    if (left > 0) counts.set(record, left - 1)
    else {
      result.added++
      if (result.addedSample.length < sampleSize) result.addedSample.push(record)
    }
  }
  for (const record of before) {
    const left = counts.get(record) ?? 0
    if (left > 0) {
      counts.set(record, left - 1)
      result.removed++
      if (result.removedSample.length < sampleSize) result.removedSample.push(record)
    }
  }
  return result
}
