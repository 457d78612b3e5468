/** A benchmark part's result: a table for people, figures for scripts. */
export interface BenchResult {
  part: string
  title: string
  columns: string[]
  rows: Array<Array<string | number>>
  notes: string[]
  /** Machine-readable figures printed by `--json`. */
  figures: Record<string, unknown>
}

export function formatTable (result: BenchResult): string {
  const cells = [result.columns, ...result.rows.map(row => row.map(String))]
  const widths = result.columns.map((_, i) => Math.max(...cells.map(row => (row[i] ?? '').length)))
  const line = (row: string[]): string => row.map((cell, i) => i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])).join('  ')
  return [
    `## ${result.title}`,
    '',
    line(result.columns),
    widths.map(w => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
    '',
    ...result.notes.map(note => `- ${note}`)
  ].join('\n')
}
