import { Command, CommanderError } from 'commander'
import { datasetCommand } from './commands/dataset.ts'
import { demoCommand } from './commands/demo.ts'
import { chainCommand } from './commands/chain.ts'
import { daoCommand } from './commands/dao.ts'
import { trainCommands } from './commands/train.ts'
import { nodeCommand } from './commands/node.ts'
import { jobCommand } from './commands/job.ts'
import { feedCommand } from './commands/feed.ts'
import { readFileSync, statSync } from 'node:fs'
import { reportError, UsageError, type GlobalOptions } from './output.ts'
import { fundCommand } from './commands/fund.ts'
import { daoDepositCommand } from './commands/daoDeposit.ts'
import { modelCommand } from './commands/model.ts'
import { tokenizerCommand } from './commands/tokenizer.ts'
import { serveCommand } from './commands/serve.ts'
import { scoreCommand } from './commands/score.ts'
import { inferCommand } from './commands/infer.ts'
import { channelCommand } from './commands/channel.ts'
import { storageCommand } from './commands/storage.ts'
import { storeCommand } from './commands/store.ts'
import { mcpCommand } from './commands/mcp.ts'
import { agentCommand } from './commands/agent.ts'
import { explorerCommand } from './commands/explorer.ts'

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

/**
 * `--home` must name a directory (or a path where one can be made): an empty value would
 * put the state in the current directory, a file would fail deep inside a command.
 */
function checkHome (options: GlobalOptions): void {
  if (options.home === undefined) return
  if (options.home.trim() === '') throw new UsageError('--home is empty', { hint: 'pass a directory, e.g. --home ~/.commons, or leave --home out for ./.commons' })
  const stat = statSync(options.home, { throwIfNoEntry: false })
  if (stat !== undefined && !stat.isDirectory()) {
    throw new UsageError(`--home ${options.home} is a file, not a directory`, { hint: 'pass a directory (it is created if missing)', details: { home: options.home } })
  }
}

/** The `commons` command line: one program, a subcommand per area. */
export function buildProgram (): Command {
  const program = new Command('commons')
    .description('Commons: community-owned datasets, verifiable training, open models')
    .option('--home <dir>', 'directory for all local state (default: $COMMONS_HOME, else ./.commons)')
    .version(VERSION, '-V, --version', 'print the version of commons')
    .enablePositionalOptions(false)
    .hook('preAction', (_program, action) => { checkHome(action.optsWithGlobals<GlobalOptions>()) })
    // Commander's own errors (a bad option value, a missing argument) are thrown, not
    // printed, so they are reported like every other error: by name, as JSON with --json.
    .exitOverride()
    .configureOutput({ outputError: () => {} })
  datasetCommand(program)
  chainCommand(program)
  fundCommand(program)
  daoCommand(program)
  daoDepositCommand(program)
  trainCommands(program)
  modelCommand(program)
  tokenizerCommand(program)
  jobCommand(program)
  feedCommand(program)
  storageCommand(program)
  storeCommand(program)
  nodeCommand(program)
  serveCommand(program)
  inferCommand(program)
  channelCommand(program)
  mcpCommand(program)
  agentCommand(program)
  scoreCommand(program)
  explorerCommand(program)
  demoCommand(program)
  return program
}

/** Runs one command line; returns the exit code (the errors a user can cause end in 1). */
export async function runProgram (argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help, --version, and the help shown for a command given no subcommand.
      if (error.exitCode === 0 || error.code === 'commander.help') return error.exitCode
      return reportError(new UsageError(error.message.replace(/^error: /, ''), { hint: 'run with --help for usage', details: { code: error.code } }), argv.includes('--json'))
    }
    return reportError(error, argv.includes('--json'))
  }
}
