/**
 * Who is told how a migration of an older home goes: it runs once, in whichever command
 * opens the home first, and a home of millions of blocks takes minutes. The CLI sets a
 * reporter before any command runs; a module of its own, so setting it loads nothing else.
 */

/** How far a migration is: blocks moved so far; `done` once the old directory is gone. */
export interface MigrationProgress {
  moved: number
  done: boolean
}

export type MigrationReport = (progress: MigrationProgress) => void

let reporter: MigrationReport | undefined

/** Sets who is told how migrations go in this process (undefined: nobody). */
export function reportStoreMigrations (report: MigrationReport | undefined): void {
  reporter = report
}

/** The reporter set, if any. */
export function migrationReporter (): MigrationReport | undefined {
  return reporter
}
