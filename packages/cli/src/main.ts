#!/usr/bin/env node
import { Command } from 'commander'
import { datasetCommand } from './commands/dataset.ts'
import { demoCommand } from './commands/demo.ts'
import { chainCommand } from './commands/chain.ts'
import { daoCommand } from './commands/dao.ts'
import { trainCommands } from './commands/train.ts'
import { nodeCommand } from './commands/node.ts'
import { jobCommand } from './commands/job.ts'
import { feedCommand } from './commands/feed.ts'
import { reportError } from './output.ts'

/** The `commons` command line: one program, a subcommand per area. */
export function buildProgram (): Command {
  const program = new Command('commons')
    .description('Commons: community-owned datasets, verifiable training, open models')
    .option('--home <dir>', 'directory for all local state (default: $COMMONS_HOME, else ./.commons)')
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions(false)
  datasetCommand(program)
  chainCommand(program)
  daoCommand(program)
  trainCommands(program)
  jobCommand(program)
  feedCommand(program)
  nodeCommand(program)
  demoCommand(program)
  return program
}

export async function main (argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    return reportError(error, argv.includes('--json'))
  }
}

if (import.meta.main) process.exitCode = await main(process.argv)
